"""Integration tests: real bundled model, real embedded Chroma, the real article, real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import REFUSAL, UNSURE
from rag.errors import StoreEmptyError
from rag.service import Assistant
from tests.conftest import make_settings, run_cli, run_module, store_env

pytestmark = pytest.mark.integration

# (question, a phrase the answer must contain, a phrase the cited span must contain)
ANSWERABLE = [
    ("Who will visit Calais on Thursday?", "Theresa May", "Theresa May will visit Calais"),
    ("Who is Theresa May's French counterpart?", "Bernard Cazeneuve", "Bernard Cazeneuve"),
    ("How much has the UK pledged towards security at the port?", "£22 million", "£22 million"),
    ("How many people are estimated to be camped in Calais?", "5,000", "Some 5,000 people"),
    ("How many people have died trying to cross the Channel since June?", "nine", "nine"),
    ("Which EU agency reported the migrant figures?", "Frontex", "Frontex"),
    ("What did David Cameron call the migrants?", "swarm", "a swarm"),
    ("Where did Khushal work as an interpreter?", "Helmand", "Helmand Province"),
    ("Who allegedly sent Khushal death threats?", "Taliban", "Taliban"),
    ("Since when have records of migrants entering the EU been kept?", "2008", "2008"),
    ("What does Britain provide to secure the Eurotunnel?", "fencing", "CCTV"),
    ("Who is Amnesty International UK's refugee program director?", "Steve Symonds", "Symonds"),
]
UNANSWERABLE = [
    "What is the capital of Australia?",
    "Who wrote the novel Pride and Prejudice?",
    "How many moons does Mars have?",
    "How many British police officers will be sent to Calais?",
]


@pytest.mark.parametrize(("question", "expected", "in_quote"), ANSWERABLE)
def test_answers_quote_the_right_sentence_or_show_it_first_when_unsure(
    ingested, question, expected, in_quote
):
    answer = ingested.ask(question)
    assert answer.outcome in ("answered", "unsure"), answer.answer  # the article answers it
    if answer.outcome == "unsure":  # no quote; the closest passages hold the answer on top
        assert not answer.citations
        assert any(expected.lower() in p.text.lower() for p in answer.passages[:2])
        return
    assert expected.lower() in answer.answer.lower()
    assert answer.markers() and set(answer.markers()) == {c.id for c in answer.citations}
    assert any(in_quote.lower() in c.quote.lower() for c in answer.citations)
    for cite in answer.citations:
        source_text = ingested.document_text(cite.source)
        assert source_text[cite.start : cite.end] == cite.quote
        assert cite.quote in cite.text
        assert source_text[cite.passage_start : cite.passage_end] == cite.text


def test_the_reader_quotes_most_answerable_questions(ingested):
    # measured 12 of 12 answered (2026-12-07, the trained reader, threshold 0.64; the old
    # judge: 7 of 12); each answered one is right (test above). Fewer than 10 means the
    # decision became much more timid.
    answered = [q for q, _, _ in ANSWERABLE if ingested.ask(q).outcome == "answered"]
    assert len(answered) >= 10, answered


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_questions_the_article_cannot_answer_are_refused(ingested, question):
    answer = ingested.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.answer == {"not_found": REFUSAL, "unsure": UNSURE}[answer.outcome]
    assert answer.passages, "the passages that were checked are still reported"


def test_passages_are_ranked_with_exact_offsets(ingested):
    answer = ingested.ask("Frontex July 2014 figure", k=5)
    assert [p.rank for p in answer.passages] == [1, 2, 3, 4, 5]
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    text = ingested.document_text(answer.passages[0].source)
    for p in answer.passages:
        assert text[p.start : p.end] == p.text


def test_a_follow_up_is_resolved_against_the_conversation(ingested):
    first = ingested.ask("Who will visit Calais on Thursday?")
    history = [{"question": first.question, "answer": first.answer}]
    follow = ingested.ask("Who is her French counterpart?", history=history)
    assert "Theresa May" in follow.standalone_question
    assert "Bernard Cazeneuve" in follow.answer
    again = ingested.ask("Which agency published the July figures?", history=history)
    assert again.standalone_question == "Which agency published the July figures?"


def test_the_chain_is_an_lcel_runnable(ingested):
    chain = ingested.chain
    inputs = {
        "question": "How much has the UK pledged towards security at the port?",
        "history": [],
    }
    answers = chain.batch([inputs, {"question": "What is the capital of Australia?"}])
    assert not answers[0].refused and answers[1].refused
    streamed = list(chain.stream(inputs))
    assert streamed[-1].answer == chain.invoke(inputs).answer
    assert set(answers[0].timings_ms) >= {"retrieve", "answer", "total"}


def test_reingest_is_idempotent_and_changes_replace_old_chunks(settings, embeddings):
    assistant = Assistant(settings, embeddings=embeddings)
    first = assistant.ingest()
    assert (first.documents, first.added) == (1, 1) and first.chunks > 5
    for _ in range(10):
        again = assistant.ingest()
        assert (again.added, again.unchanged, again.embedded) == (0, 1, 0)
    assert assistant.store.count_chunks() == first.chunks
    article = settings.store.seeds_dir / "fortress-calais.txt"
    article.write_text(article.read_text() + "\n\nA new closing line was added.\n")
    changed = assistant.ingest()
    assert changed.updated == 1 and changed.documents == 1
    assert assistant.store.count_chunks() == changed.chunks
    assert "A new closing line" in assistant.document_text("seeds/fortress-calais.txt")
    article.unlink()
    removed = assistant.ingest()
    assert removed.removed == 1 and removed.documents == 0
    assert assistant.store.count_chunks() == 0


def test_an_empty_store_says_what_to_do(settings, embeddings):
    with pytest.raises(StoreEmptyError, match="python -m rag ingest"):
        Assistant(settings, embeddings=embeddings).ask("Who?")


def test_an_interrupted_ingest_leaves_no_half_document(settings, embeddings):
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.ingest()
    store = assistant.store
    # Simulate a crash after chunks of a new version were written but before its manifest.
    orphan = {"source": "seeds/x.txt", "doc_sha256": "dead", "fingerprint": store.fingerprint}
    text = ["Orphaned text about penguins."]  # store.chunks: the raw Chroma collection
    vectors = embeddings.embed_documents(text)
    store.chunks.add(ids=["orphan"], documents=text, metadatas=[orphan], embeddings=vectors)
    answer = assistant.ask("What about penguins?")
    assert all("penguins" not in p.text for p in answer.passages)
    assert assistant.ingest().reconciled == 1
    assert store.chunks.get(ids=["orphan"])["ids"] == []


def _cli(args: list[str], env: dict[str, str], stdin: str | None = None):
    """In-process (faster); ``chat`` reads a real stdin, so it gets a real process."""
    return run_module("rag", args, env, stdin) if stdin is not None else run_cli(args, env)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return store_env(make_settings(tmp_path))


def test_cli_ingest_ask_and_chat(cli_env):
    empty = _cli(["ask", "Who is Khushal?"], cli_env)
    assert empty.returncode == 2 and "python -m rag ingest" in empty.stderr
    assert "Traceback" not in empty.stderr
    ingest = _cli(["ingest", "--json"], cli_env)
    assert ingest.returncode == 0, ingest.stderr
    report = json.loads(ingest.stdout)
    assert {"documents", "chunks", "added", "unchanged", "removed"} <= set(report)
    assert report["added"] == 1 and report["chunks"] > 5
    assert json.loads(_cli(["ingest", "--json"], cli_env).stdout)["unchanged"] == 1

    asked = _cli(["ask", "How much has the UK pledged?", "--json", "--k", "3"], cli_env)
    data = json.loads(asked.stdout)
    assert {"question", "answer", "refused", "citations", "passages", "timings_ms"} <= set(data)
    assert len(data["passages"]) == 3 and "£22 million" in data["answer"]
    cite = data["citations"][0]
    assert {"id", "source", "quote", "start", "end", "text"} <= set(cite)
    assert f"[{cite['id']}]" in data["answer"]

    human = _cli(["ask", "How much has the UK pledged?"], cli_env)
    assert "£22 million" in human.stdout and "[1]" in human.stdout

    chat = _cli(
        ["chat"], cli_env, stdin="Who will visit Calais on Thursday?\nWhat will she sign?\n"
    )
    assert chat.returncode == 0, chat.stderr
    assert "joint-declaration" in chat.stdout


def test_cli_errors_are_one_clear_line(cli_env):
    _cli(["ingest"], cli_env)
    blank = _cli(["ask", "   "], cli_env)
    assert blank.returncode == 2 and "Please type a question" in blank.stderr
    missing = _cli(["ingest", "no/such/file.txt"], cli_env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in blank.stderr + missing.stderr


def test_same_content_under_two_names_is_embedded_once(settings, embeddings):
    assistant = Assistant(settings, embeddings=embeddings)
    single = assistant.ingest()
    copy = settings.store.seeds_dir / "copy-of-article.txt"
    copy.write_text((settings.store.seeds_dir / "fortress-calais.txt").read_text())
    both = assistant.ingest()
    assert both.documents == 1 and both.names_added == 1 and both.embedded == 0
    assert assistant.store.count_chunks() == single.chunks
    (entry,) = assistant.documents()
    assert set(entry.names) == {"seeds/fortress-calais.txt", "seeds/copy-of-article.txt"}
    passage = assistant.ask("Who is Khushal?").passages[0]
    assert passage.source == "seeds/fortress-calais.txt"  # the first name it was seen under
    copy.unlink()
    assert assistant.ingest().names_removed == 1
    assert assistant.store.count_chunks() == single.chunks, "the other name keeps its chunks"
    answer = assistant.ask("How much has the UK pledged towards security at the port?")
    assert answer.outcome == "answered"
    assert answer.citations[0].source == "seeds/fortress-calais.txt"
