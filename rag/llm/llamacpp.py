"""A local GGUF model through ``llama-cpp-python``, as a LangChain chat model.

:class:`LlamaCppChat` is a small :class:`~langchain_core.language_models.BaseChatModel`
over ``llama_cpp.Llama.create_chat_completion`` (streaming included), with two fixes
that LangChain's ``ChatLlamaCpp`` cannot apply because it builds its own ``Llama``:

* **Weight repacking off.** On CPUs with AMX (and some others) llama.cpp's "extra
  buffer types" (repacked weights) crash in ``decode`` as soon as a batch holds more
  than one token. :func:`safe_llama_class` returns a ``Llama`` subclass that sets
  ``use_extra_bufts = False`` on the model parameters before the model loads. The
  OpenAI-compatible server gets the same class through :mod:`rag.llm.llamacpp_server`.
* **Passive OpenMP threads.** With OpenMP's default busy-waiting, generation on a
  machine that is busy with anything else is ~100x slower; ``OMP_WAIT_POLICY=passive``
  must be set before ``llama_cpp`` is first imported (:func:`prepare_environment`).

Loaded models are cached per (path, context, threads), so a Streamlit rerun or a
second Assistant reuses one copy; a lock serialises generation on a shared model.

This module is imported only by :mod:`rag.llm.registry` (the factory) and the server wrapper;
it knows nothing about prompts, passages or citations.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

log = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def prepare_environment() -> None:
    """Set OpenMP to passive waiting unless the user chose otherwise (before the import)."""
    if "llama_cpp" in sys.modules and "OMP_WAIT_POLICY" not in os.environ:
        log.warning("llama_cpp was imported before OMP_WAIT_POLICY was set; it may be slow")
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@lru_cache(maxsize=1)
def safe_llama_class() -> type:
    """``llama_cpp.Llama`` with weight repacking (extra buffer types) switched off."""
    prepare_environment()
    import llama_cpp

    class SafeLlama(llama_cpp.Llama):  # type: ignore[misc, name-defined]
        """Sets ``use_extra_bufts = False`` the moment ``Llama.__init__`` builds its params."""

        @property
        def model_params(self) -> Any:
            return self.__dict__["_rag_model_params"]

        @model_params.setter
        def model_params(self, params: Any) -> None:
            params.use_extra_bufts = False  # the AMX/repack crash; see the module docstring
            self.__dict__["_rag_model_params"] = params

    return SafeLlama


@lru_cache(maxsize=4)
def load_llama(path: str, n_ctx: int, n_threads: int | None) -> tuple[Any, threading.Lock]:
    """The loaded model (cached) and the lock that serialises its use."""
    log.info("loading %s (context %d tokens)", path, n_ctx)
    llama = safe_llama_class()(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    # Free it before interpreter teardown; its __del__ would run after llama_cpp's globals
    # are gone and print a TypeError at every exit.
    atexit.register(llama.close)
    return llama, threading.Lock()


def _message_dict(message: BaseMessage) -> dict[str, str]:
    return {"role": _ROLES.get(message.type, "user"), "content": str(message.content)}


class LlamaCppChat(BaseChatModel):
    """A GGUF file served in-process by llama.cpp; streams token by token."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int | None = None
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0
    repeat_penalty: float = 1.1

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, **self.sampling()}

    @property
    def model_name(self) -> str:
        """The GGUF file name, e.g. ``SmolLM2-135M-Instruct.Q4_1.gguf``."""
        return Path(self.model_path).name

    def sampling(self) -> dict[str, Any]:
        """The generation settings passed to llama.cpp."""
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "repeat_penalty": self.repeat_penalty,
        }

    def client(self) -> tuple[Any, threading.Lock]:
        """The loaded model (loads on first use) and its lock."""
        return load_llama(self.model_path, self.n_ctx, self.n_threads)

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's own tokenizer."""
        llama, _ = self.client()
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama, lock = self.client()
        params = {**self.sampling(), **kwargs, "stop": stop or []}
        with lock:
            for event in llama.create_chat_completion(
                messages=[_message_dict(m) for m in messages], stream=True, **params
            ):
                delta = event["choices"][0].get("delta") or {}
                text = delta.get("content") or ""
                if not text:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
