"""Example questions on the page: checked extractively, whatever answer mode is chosen.

AppTest over :class:`tests.fakes.CannedAssistant` with a small FAQ as its document.
"""

from __future__ import annotations

from typing import Any

import pytest

from rag.conversations import example_questions
from tests.fakes import DOC_TITLE, CannedAssistant, answered, not_found
from tests.unit.test_app_outcomes import APP, TIMEOUT, canned, plain  # noqa: F401 - fixture

FAQ = (
    "Pool FAQ\n\nQ: When does the pool open?\nA: At 7.\n\n"
    "Q: Is there a sauna?\nA: No.\n\nQ: Can I bring a towel?\nA: Yes.\n"
)


def test_examples_are_checked_by_the_extractive_assistant_in_a_model_mode(
    monkeypatch: pytest.MonkeyPatch,
    canned,  # noqa: F811 - the fixture
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    asked: list[tuple[str, str]] = []

    def ask(self: CannedAssistant, question: str, **kwargs: Any):
        asked.append((self.settings.llm.provider, question))
        return answered(question) if "sauna" in question else not_found(question)

    monkeypatch.setenv("RAG_LLM", "ollama:llama3.2")
    monkeypatch.setattr(CannedAssistant, "document_text", lambda self, source: FAQ)
    monkeypatch.setattr(CannedAssistant, "ask", ask)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        assert not at.exception, at.exception
        assert at.selectbox(key="mode").value == "ollama"
        examples = [b for b in at.button if b.key and b.key.startswith("example-")]
        assert [plain(b.label) for b in examples] == ["Is there a sauna?"]
        candidates = example_questions([(DOC_TITLE, FAQ)], 8)
        assert asked == [("extractive", q) for q in candidates]  # no model run for them
    finally:
        st.cache_data.clear()
