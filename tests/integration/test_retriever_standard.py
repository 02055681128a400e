"""LangChain's standard retriever suite against HybridRetriever (real model, real Chroma)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.retrieval.hybrid import HybridRetriever

pytestmark = pytest.mark.integration


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _store(self, ingested) -> None:
        type(self).settings = ingested.settings

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"settings": self.settings}

    @property
    def retriever_query_example(self) -> str:
        return "How much has the UK pledged towards security at the port?"


def test_keyword_only_construction_opens_the_default_store(ingested, monkeypatch):
    monkeypatch.setenv("RAG_STORE_DIR", str(ingested.settings.store.store_dir))
    docs = HybridRetriever(k=3).invoke("Frontex")
    assert len(docs) == 3
    assert "Frontex" in docs[0].page_content
    assert {"source", "start", "end", "score", "rank"} <= set(docs[0].metadata)


async def test_ainvoke_honours_k(ingested):
    retriever = HybridRetriever(k=2, settings=ingested.settings, store=ingested.store)
    assert len(await retriever.ainvoke("Khushal")) == 2
    assert len(await retriever.ainvoke("Khushal", k=4)) == 4
