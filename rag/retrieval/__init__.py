"""Stage 3, retrieval: a question in, the passages most likely to answer it out.

Owns the hybrid retriever (:mod:`~rag.retrieval.hybrid`: dense from Chroma + BM25, fused
by reciprocal rank; a LangChain ``BaseRetriever``), the lexical side (:mod:`~rag.retrieval.lexical`:
the one tokenizer and the BM25 index, and :mod:`~rag.retrieval.lexical_snapshot`: that index
saved per store generation) and repetition (:mod:`~rag.retrieval.dedup`: near-duplicate
chunks found at ingest, collapsed at query time).

It does not decide whether the passages answer the question (:mod:`rag.answering` does)
nor write to the store (:mod:`rag.ingest`). Nothing is imported here.
"""
