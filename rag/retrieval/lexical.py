"""Lexical side of retrieval: a tokenizer and a BM25 index (``bm25s``).

Names and numbers in news text ("Frontex", "£22 million", "2008") are matched
here exactly, where a small embedding model blurs them. The tokenizer is shared
with the extractive answerer so both sides agree on what a word is.

An index can be saved to a folder and loaded back (memory-mapped), so a process
that opens a large store does not re-tokenise every chunk; the folder is bound to
``TOKENIZER_VERSION`` so a tokenizer change never reuses an old index.

This module does not fuse rankings or touch the vector store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TOKENIZER_VERSION = "1"  # bump when tokenize() changes: saved indexes become stale
_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because
    been before being below between both but by can could did do does doing down
    during each few for from further had has have having he her here hers herself
    him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours out over own same she should
    so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves s t don
    didn doesn isn wasn tell according
    """.split()
)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A deliberately light stemmer: plural and possessive endings only."""
    for suffix in ("’s", "'s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased, lightly stemmed word tokens; numbers keep their separators."""
    words = (m.group().lower().replace(",", "") for m in _TOKEN.finditer(text))
    return [_stem(w) for w in words if keep_stopwords or w not in STOPWORDS]


class LexicalIndex:
    """BM25 over a fixed list of texts; ``search`` returns (position, score) pairs."""

    def __init__(self, texts: Iterable[str], _bm25: Any = None, _size: int = 0) -> None:
        import bm25s
        from bm25s.tokenization import Tokenized

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
        if _bm25 is not None:
            self._bm25, self.size = _bm25, _size
            return
        # Token ids, not token strings: 116,000 chunks of ~100 tokens held as strings
        # cost several hundred MB at the end of a large ingest.
        vocab: dict[str, int] = {}
        ids = [
            [vocab.setdefault(t, len(vocab)) for t in tokenize(text) or ["\u2205"]]
            for text in texts
        ]
        self.size = len(ids)
        self._bm25 = bm25s.BM25()
        if self.size:
            self._bm25.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def save(self, folder: Path) -> None:
        """Write the index to *folder* (numpy arrays + vocabulary JSON)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "size").write_text(str(self.size))
        if self.size:
            self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """An index saved by :meth:`save`; arrays are memory-mapped, not copied."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        size = int((folder / "size").read_text())
        if not size:
            return cls([])
        bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        return cls([], _bm25=bm25, _size=size)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Best *limit* positions with a positive BM25 score, best first."""
        import numpy as np

        if not self.size:
            return []
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return []
        scores = self._bm25.get_scores(ids)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
