"""Grounded question answering over your documents, with checked citations.

Import what you need from the submodules (``rag.service.Assistant``,
``rag.retrieval.hybrid.HybridRetriever``, ``rag.config.Settings``); importing this package
loads nothing heavy and reads no settings.
"""
