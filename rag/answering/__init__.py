"""The answer decision: the trained reader, its span decoding and the one place that decides.

Also the one shape every answerer has (:mod:`~rag.answering.protocol`: the extractive
answerer here and :class:`rag.generate.LLMAnswerer`) and the factory that picks one from
the provider registry in :mod:`rag.llm` (:mod:`~rag.answering.factory`). Nothing is
imported here: the submodules load on their own.
"""
