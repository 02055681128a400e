"""rag.support: which of the question's own words the sentence covers, and how well."""

from __future__ import annotations

import numpy as np

from rag.support import Support, asked_words, said_words, support


class TableEncoder:
    """Unit vectors from a fixed table (unknown words get their own axis): exact cosines."""

    def __init__(self, table: dict[str, list[float]], dim: int = 8) -> None:
        self.table = {w: np.array(v, dtype=np.float32) for w, v in table.items()}
        self.dim = dim
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            vec = np.zeros(self.dim, dtype=np.float32)
            if text in self.table:
                vec[: len(self.table[text])] = self.table[text]
            else:
                vec[self.dim - 1 - hash(text) % 3] = 1.0
            rows.append(vec / np.linalg.norm(vec))
        return np.stack(rows)


def test_the_question_words_are_its_lower_case_content_words() -> None:
    words = asked_words("When was the Kestrel Mill lighthouse automated in 1931?")
    assert words == ["lighthouse", "automated"]  # names, numbers, stop words dropped


def test_asking_words_are_not_words_the_answer_must_repeat() -> None:
    assert asked_words("How many rowers won the race in what year?") == ["rowers", "won", "race"]


def test_sentence_words_drop_stop_words_and_keep_numbers() -> None:
    assert said_words("The mill was sold in 1931.") == ["mill", "sold", "1931"]


def test_the_same_root_counts_fully_without_asking_the_model() -> None:
    encoder = TableEncoder({})
    got = support("When was the bridge repainted?", "The bridges were repainting in May.", encoder)
    assert got == Support(1.0, 1.0)
    assert encoder.calls == []


def test_a_paraphrase_counts_by_the_words_cosine() -> None:
    encoder = TableEncoder({"travelling": [1.0, 0.0], "visit": [0.6, 0.8], "minister": [0, 1]})
    got = support("Which minister is travelling?", "The minister will visit Dover.", encoder)
    assert got.weakest == 0.6
    assert got.mean == 0.8  # minister 1.0 (same word), travelling 0.6


def test_a_missing_event_word_is_the_weakest_match() -> None:
    encoder = TableEncoder({"automated": [1.0, 0.0], "lit": [0.1, 0.995]})
    got = support("When was the lighthouse automated?", "The lighthouse was lit in 1868.", encoder)
    assert got.weakest < 0.2
    assert got.mean > 0.5  # the lighthouse is covered; the event is not


def test_a_question_with_nothing_to_cover_is_fully_supported() -> None:
    assert support("Who is Ada Lovelace?", "Ada Lovelace wrote notes.", TableEncoder({})) == (
        Support.full()
    )


def test_an_empty_sentence_covers_nothing() -> None:
    assert support("Who painted the mural?", "", TableEncoder({})) == Support(0.0, 0.0)
