"""Question + passage token windows for the reader, with exact character offsets.

The reader sees ``[CLS] question [SEP] passage-slice [SEP]``. A passage longer than
one window is cut into overlapping slices (``stride`` passage tokens shared between
neighbours), so every answer lies whole inside at least one window. Each passage token
keeps its character span in the passage text, so a span of tokens maps back to exact
characters of the source document.

Training (``training/reader``) and answering build windows with this one module, so
the model is served exactly the inputs it was trained on. This module tokenizes and
slices; it runs no model and knows nothing of answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Not settings: the reader was trained on these windows; changing them needs retraining.
MAX_LENGTH = 192  # tokens per window: our chunks (~600 characters) fit in one
MAX_QUESTION_TOKENS = 48
STRIDE = 64  # passage tokens shared by neighbouring windows of one long passage


@dataclass(frozen=True)
class Window:
    """One model input: token ids and, for each passage token, its characters."""

    passage: int  # index of the passage this window reads
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    first: int  # index in ``ids`` of the first passage token
    offsets: tuple[tuple[int, int], ...]  # character span in the passage per passage token

    @property
    def last(self) -> int:
        """Index in ``ids`` of the last passage token."""
        return self.first + len(self.offsets) - 1

    def chars(self, start_token: int, end_token: int) -> tuple[int, int]:
        """Character span in the passage of tokens ``start_token..end_token`` (inclusive)."""
        return self.offsets[start_token - self.first][0], self.offsets[end_token - self.first][1]

    def token_of(self, char_start: int, char_end: int) -> tuple[int, int] | None:
        """Token indices covering characters ``[char_start, char_end)``; None if outside."""
        starts = [i for i, (a, b) in enumerate(self.offsets) if a <= char_start < b]
        ends = [i for i, (a, b) in enumerate(self.offsets) if a < char_end <= b]
        if not starts or not ends or ends[0] < starts[0]:
            return None
        return self.first + starts[0], self.first + ends[0]


class WindowMaker:
    """Builds :class:`Window` s with a ``tokenizers.Tokenizer`` (a WordPiece BERT vocabulary)."""

    def __init__(self, tokenizer: Any, max_length: int = MAX_LENGTH, stride: int = STRIDE) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        self.cls = tokenizer.token_to_id("[CLS]")
        self.sep = tokenizer.token_to_id("[SEP]")

    def _pieces(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [(list(e.ids), [tuple(o) for o in e.offsets]) for e in encodings]

    def windows(self, question: str, passages: Sequence[str]) -> list[Window]:
        """Every window of every passage, in passage order."""
        (q_ids, _), *passage_pieces = self._pieces([question, *passages])
        q_ids = q_ids[:MAX_QUESTION_TOKENS]
        head = [self.cls, *q_ids, self.sep]
        room = self.max_length - len(head) - 1
        out: list[Window] = []
        for index, (ids, offsets) in enumerate(passage_pieces):
            for lo in _slices(len(ids), room, self.stride):
                body = ids[lo : lo + room]
                out.append(
                    Window(
                        passage=index,
                        ids=(*head, *body, self.sep),
                        type_ids=(0,) * len(head) + (1,) * (len(body) + 1),
                        first=len(head),
                        offsets=tuple(offsets[lo : lo + room]),
                    )
                )
        return out


def _slices(n_tokens: int, room: int, stride: int) -> list[int]:
    """Start indices of overlapping slices of ``room`` tokens covering ``n_tokens``."""
    if n_tokens <= room:
        return [0]
    step = max(1, room - stride)
    starts = list(range(0, n_tokens - room, step))
    return [*starts, n_tokens - room]
