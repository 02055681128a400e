"""Stage 2, ingest: files and folders in, chunks embedded and stored, an ``IngestReport`` out.

Owns the ingest use case (:mod:`~rag.ingest.pipeline`: load, chunk, embed, upsert,
reconcile, resume after a kill), its distributed form on a Ray cluster
(:mod:`~rag.ingest.distributed`), the turn-taking between ingests on different machines
(:mod:`~rag.ingest.lease`) and the uploads a browser hands in (:mod:`~rag.ingest.uploads`).

It does not read files itself (:mod:`rag.documents` does), embed (:mod:`rag.embeddings`),
talk to Chroma (:mod:`rag.store`) or build the lexical index's internals
(:mod:`rag.retrieval`). Nothing is imported here: the submodules load on their own.
"""
