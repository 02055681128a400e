"""``python -m rag.llm.llamacpp_server --model FILE.gguf --host 127.0.0.1 --port N [...]``.

llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``, same
arguments) started with the fixes of :mod:`rag.llm.llamacpp`: passive OpenMP threads and
weight repacking switched off, without which the server crashes on the first
multi-token prompt on AMX CPUs. Point ``RAG_OPENAI_BASE_URL`` at
``http://HOST:PORT/v1`` and use ``RAG_LLM=openai:ANY-NAME``.

It only launches the server; it adds no endpoint and changes no argument.
"""

from __future__ import annotations


def main() -> None:
    """Patch the server's ``Llama`` class, then hand over to its own ``main``."""
    from rag.llm.llamacpp import safe_llama_class

    safe = safe_llama_class()  # sets OMP_WAIT_POLICY before llama_cpp is first imported
    import llama_cpp

    setattr(llama_cpp, "Llama", safe)  # noqa: B010 - the server looks it up when loading
    from llama_cpp.server.__main__ import main as server_main

    server_main()


if __name__ == "__main__":
    main()
