"""Chat models: the one provider registry and the local llama.cpp model.

Owns which answer providers exist (:mod:`~rag.llm.registry`: name, label, accepted forms,
availability, the answerer each uses, the builder of its LangChain chat model), the
local GGUF model (:mod:`~rag.llm.llamacpp` and its loopback server
:mod:`~rag.llm.llamacpp_server`) and how untrusted text is fenced inside prompts
(:mod:`~rag.llm.prompts`).

It does not write or check answers (:mod:`rag.answering.generate` and
:mod:`rag.answering.citecheck` do) and is never needed on the default, extractive path.
Nothing is imported here.
"""
