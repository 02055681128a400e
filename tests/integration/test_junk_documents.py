"""One junk document cannot take over retrieval (issue 29 item 1), with the real model.

A 1 MB file of one repeated sentence and a file of "lorem ipsum" paragraphs ingested
next to the seed article, stray chunks of a removal killed halfway, and a store written
before repeats were stored once: the answers stay what they are without the junk.
"""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.service import Assistant
from rag.store import ChunkIndex
from tests.conftest import run_cli, store_env

QUESTIONS = [
    "How much has the UK pledged?",
    "How much has the UK pledged towards security at the port?",
    "Who is Khushal?",
    "How did the July figure compare with July 2014?",  # near nothing: lorem came second
]
SENTENCE = "All work and no play makes Jack a dull boy. "
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n\n"
)

pytestmark = pytest.mark.integration


Seen = list[tuple[str, str, list[str], list[str]]]


def _answers(assistant: Assistant) -> Seen:
    """Outcome, answer text, cited quotes and the passages shown, for each question."""
    answers = [assistant.ask(q) for q in QUESTIONS]
    return [
        (a.outcome, a.answer, [c.quote for c in a.citations], [p.text for p in a.passages])
        for a in answers
    ]


def _add_junk(settings: Settings) -> None:
    (settings.store.seeds_dir / "junk.txt").write_text(SENTENCE * (1_000_000 // len(SENTENCE)))
    (settings.store.seeds_dir / "lorem.txt").write_text(LOREM * 1000)


@pytest.fixture
def before(settings: Settings, embeddings) -> Seen:
    """The answers over the seed article alone, from a store of their own."""
    plain = settings.updated(store={"store_dir": settings.store.store_dir.parent / "plain"})
    assistant = Assistant(plain, embeddings=embeddings)
    assistant.ingest()
    answers = _answers(assistant)
    assert answers[0][0] == "answered", answers[0]
    return answers


def test_a_junk_file_next_to_the_seeds_changes_no_answer_and_is_flagged(settings, before):
    _add_junk(settings)
    ingested = run_cli(["ingest"], store_env(settings))
    assert ingested.returncode == 0, ingested.stderr
    warnings = [line for line in ingested.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert any("junk.txt: 99% of its" in w and "repeat one another" in w for w in warnings)
    assert any("lorem.txt: 99% of its" in w for w in warnings)
    assistant = Assistant(settings)
    assert {e.source.rsplit("/", 1)[-1]: e.chunks for e in assistant.documents()}["junk.txt"] <= 2
    assert _answers(assistant) == before


def test_chunks_left_by_a_removal_killed_halfway_change_no_answer(
    settings, embeddings, before, monkeypatch
):
    """The junk is stored copy by copy (as before repeats were kept once), then its
    removal is killed between the manifest write and the chunk deletion."""
    _add_junk(settings)
    with monkeypatch.context() as patch:
        patch.setattr(
            "rag.ingest.pipeline.without_repeats", lambda doc, chunks, report, settings: chunks
        )
        Assistant(settings, embeddings=embeddings).ingest()
    assistant = Assistant(settings, embeddings=embeddings)
    with monkeypatch.context() as patch:
        patch.setattr(ChunkIndex, "delete_version", _killed)
        for entry in assistant.documents():
            if entry.source.endswith(("junk.txt", "lorem.txt")):
                with pytest.raises(KeyboardInterrupt):
                    assistant.store.remove_document(entry.source)
    assert len(assistant.documents()) == 1
    assert assistant.store.count_chunks() > 1500  # the strays are still there
    assert _answers(assistant) == before


def _killed(*_: object) -> int:
    raise KeyboardInterrupt  # the process dies here


def test_a_store_written_before_repeats_were_kept_once_changes_no_answer(
    settings, embeddings, before, monkeypatch
):
    monkeypatch.setattr(
        "rag.ingest.pipeline.without_repeats", lambda doc, chunks, report, settings: chunks
    )
    _add_junk(settings)
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.ingest()
    assert assistant.store.count_chunks() > 1500  # every copy stored, as before the change
    after = _answers(assistant)
    # The answers are the same; the copies, asked again and scored exactly, may keep
    # one passage each (stores written since keep each text once and rank it last), which
    # can still turn the question that is near nothing (the last) to Not found.
    assert [seen[:3] for seen in after[:-1]] == [seen[:3] for seen in before[:-1]]
    for _, _, _, passages in after:  # at most one of each junk file
        assert sum(SENTENCE.strip() in text for text in passages) <= 1
        assert sum("Lorem" in text for text in passages) <= 1
