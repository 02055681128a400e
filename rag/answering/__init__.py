"""Stage 4, answering: the passages in, a cited :class:`~rag.answer.Answer` out.

The extractive path: the trained reader (:mod:`~rag.answering.reader`, windows and span
decoding in :mod:`~rag.answering.windows` and :mod:`~rag.answering.spans`), the citable
units (:mod:`~rag.answering.units`) and the one place that decides Answered / Not sure /
Not found (:mod:`~rag.answering.decision`), put together by
:mod:`~rag.answering.extractive`. The generative path: :class:`rag.answering.generate.LLMAnswerer`
writes with a chat model, and :mod:`~rag.answering.citecheck` checks every sentence it
writes against the passage its ``[n]`` marker (:mod:`~rag.answering.markers`) cites.
Both implement one protocol (:mod:`~rag.answering.protocol`), and the factory
(:mod:`~rag.answering.factory`) picks one from the provider registry in
:mod:`rag.llm.registry`.

It does not retrieve (:mod:`rag.retrieval`) or resolve follow-ups (:mod:`rag.followup`).
Nothing is imported here: the submodules load on their own.
"""
