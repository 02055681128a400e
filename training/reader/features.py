"""Examples -> labelled token windows, and length-grouped batches of them.

Each example is cut into windows by :class:`rag.answering.windows.WindowMaker` (the
very code that serves the model). A window's label is the answer's first and last
token when the whole answer lies inside it, else 0/0 ([CLS]: no answer here), so a long
paragraph also teaches "the answer is elsewhere".

Batches group windows of similar length (padding costs compute on a CPU) and are
shuffled; the order is a pure function of the seed and the epoch, so a resumed run
continues with exactly the batches it had not done.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answering.windows import Window, WindowMaker
from training.reader.data import Example


@dataclass(frozen=True)
class Labelled:
    """Token ids of one window, with its answer tokens (0, 0: no answer)."""

    ids: np.ndarray
    type_ids: np.ndarray
    start: int
    end: int


def label(window: Window, example: Example) -> tuple[int, int]:
    """Answer token span inside *window*, or (0, 0)."""
    if example.answer_start is None:
        return 0, 0
    span = window.token_of(example.answer_start, example.answer_start + len(example.answer_text))
    return span if span is not None else (0, 0)


def featurize(
    maker: WindowMaker, examples: Sequence[Example], crop: bool = False
) -> list[Labelled]:
    """Every window of every example, labelled; with *crop*, one window per example.

    A cropped example keeps one of the windows that hold its whole answer (or any
    window when it has none), chosen by a hash of its id: the same window every run.
    """
    out = []
    for example in examples:
        windows = maker.windows(example.question, [example.context])
        labelled = [(w, label(w, example)) for w in windows]
        if crop:
            holding = [item for item in labelled if item[1] != (0, 0)] or labelled
            labelled = [holding[_stable(example.qid) % len(holding)]]
        for window, (start, end) in labelled:
            out.append(
                Labelled(
                    np.asarray(window.ids, dtype=np.int32),
                    np.asarray(window.type_ids, dtype=np.int8),
                    start,
                    end,
                )
            )
    return out


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def batches(lengths: Sequence[int], batch: int, seed: int) -> list[list[int]]:
    """Window indices in batches of similar length, shuffled (deterministic per seed)."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch * 50
    out: list[list[int]] = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: lengths[j])
        out.extend(chunk[k : k + batch] for k in range(0, len(chunk), batch))
    rng.shuffle(out)
    return out


def collate(items: Sequence[Labelled]) -> dict[str, np.ndarray]:
    """Pad a batch: input ids, attention mask, token types, start and end labels."""
    width = max(len(i.ids) for i in items)
    ids = np.zeros((len(items), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for row, item in enumerate(items):
        n = len(item.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = item.ids, 1, item.type_ids
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "starts": np.array([i.start for i in items], dtype=np.int64),
        "ends": np.array([i.end for i in items], dtype=np.int64),
    }
