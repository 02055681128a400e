"""The reader network: MiniLM + a span head + a no-answer head (PyTorch, training only).

For every token of ``[CLS] question [SEP] passage [SEP]`` the span head gives a start
and an end logit; position 0 ([CLS]) stands for "no answer in this window", as in BERT
for SQuAD 2.0. The answerability head reads [CLS] and the mean of all tokens (the
bundled weights were trained to mean-pool) and gives one logit: does this window hold
the answer. Positions that cannot start or end an answer (question tokens, padding)
get a large negative logit inside the network, so the exported ONNX graph serves the
same scores.

Answering runs the ONNX export (:mod:`rag.answering.reader`), never this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

NEG = -1e4  # logit of a position that can neither start nor end an answer


class ReaderNet(torch.nn.Module):
    """MiniLM encoder with span and answerability heads."""

    def __init__(self, base: Path | None = None, config: Any = None) -> None:
        super().__init__()
        from transformers import AutoModel

        self.bert = AutoModel.from_config(config) if config else AutoModel.from_pretrained(base)
        size = self.bert.config.hidden_size
        self.span = torch.nn.Linear(size, 2)
        self.answerable = torch.nn.Linear(2 * size, 1)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start logits, end logits (batch x tokens) and the answerable logit (batch)."""
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        logits = self.span(hidden).float()
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        allowed = ((token_type_ids == 1) & (attention_mask == 1)) | (positions == 0)
        logits = logits.masked_fill(~allowed.unsqueeze(-1), NEG)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = torch.cat([hidden[:, 0], mean], dim=-1)
        answerable = self.answerable(pooled).float().squeeze(-1)
        return logits[..., 0], logits[..., 1], answerable


def loss(
    outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    starts: torch.Tensor,
    ends: torch.Tensor,
) -> torch.Tensor:
    """Span cross-entropy (target 0 when the window holds no answer) + answerability BCE."""
    start_logits, end_logits, answerable = outputs
    ce = torch.nn.functional.cross_entropy
    span = (ce(start_logits, starts) + ce(end_logits, ends)) / 2
    has = (starts > 0).float()
    return span + torch.nn.functional.binary_cross_entropy_with_logits(answerable, has)
