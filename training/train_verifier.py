"""Fine-tune the answer verifier: a MiniLM cross-encoder "does this sentence answer this?".

An experiment, not part of the shipped judge (measured: it did not help; see
rag/models/judge/MODEL_CARD.md). ``python -m training.train_verifier`` (``make
train-verifier``) trains on the *training* articles of ``eval/squad2/train.json`` only
(pairs from :mod:`training.pairs`), starting from the bundled all-MiniLM-L6-v2 weights:
first two fold models (the training articles in two halves, each model trained on one
half; exported to ``build/verifier-folds/`` with out-of-fold pair scores), then the model
on all training articles, exported to ONNX (int8, dynamic quantisation) with its
tokenizer under ``build/verifier/``. :mod:`training.calibrate` ``--with-verifier`` then
uses the fold models so that every training question is scored by a model that never saw
its article. fp32 (bf16 is emulated and slow on CPUs without AMX or AVX512-BF16).

Not used at run time unless ``RAG_JUDGE_PATH`` points at ``build/verifier``; even then
answering runs the ONNX file (:mod:`rag.verifier`), never torch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from rag.embeddings import bundled_model_path
from training.pairs import Pair, squad_pairs

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "eval" / "squad2" / "train.json"
OUT = ROOT / "build" / "verifier"  # an experiment: not shipped (see the judge's model card)
FOLDS = ROOT / "build" / "verifier-folds"
MAX_LENGTH = 96


def encode(tokenizer: Any, pairs: Sequence[Pair]) -> dict[str, torch.Tensor]:
    return tokenizer(
        [p.question for p in pairs],
        [p.text for p in pairs],
        padding=True,
        truncation="only_second",
        max_length=MAX_LENGTH,
        return_tensors="pt",
    )


class MeanPoolClassifier(torch.nn.Module):
    """MiniLM + mean pooling + one linear unit: the logit that the pair matches.

    Mean pooling, not BERT's [CLS] pooler: the bundled weights were trained to mean-pool
    (sentence embeddings), and a [CLS] head stayed at chance on this data (AUC 0.50-0.61
    after 800 pairs, against 0.68 for mean pooling).
    """

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.bert = AutoModel.from_pretrained(str(base))
        self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

    def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(pooled).squeeze(-1)


def train(pairs: Sequence[Pair], epochs: int, batch: int, lr: float, seed: int) -> Any:
    """A fresh cross-encoder from the bundled weights, fine-tuned on *pairs*."""
    torch.manual_seed(seed)
    base = bundled_model_path()
    model = MeanPoolClassifier(base)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    order = list(pairs)
    steps = epochs * ((len(order) + batch - 1) // batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    step, started = 0, time.perf_counter()
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(order)
        for i in range(0, len(order), batch):
            part = order[i : i + batch]
            inputs = encode(tokenizer, part)
            labels = torch.tensor([p.label for p in part])
            loss = loss_fn(model(**inputs), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 20 == 0:
                rate = step * batch / (time.perf_counter() - started)
                log.info(
                    "epoch %d step %d/%d loss %.3f (%.1f pairs/s)",
                    epoch,
                    step,
                    steps,
                    loss.item(),
                    rate,
                )
    model.eval()
    return model, tokenizer


@torch.inference_mode()
def score(model: Any, tokenizer: Any, pairs: Sequence[Pair], batch: int = 64) -> list[float]:
    """Verifier logits for *pairs*."""
    out: list[float] = []
    for i in range(0, len(pairs), batch):
        out += model(**encode(tokenizer, pairs[i : i + batch])).tolist()
    return out


def auc(labels: Sequence[float], scores: Sequence[float]) -> float:
    """Area under the ROC curve (rank statistic)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    ranks = np.argsort(np.argsort(np.array(pos + neg))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def out_of_fold(pairs: Sequence[Pair], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Scores of every pair by a model that never saw its article."""
    articles = sorted({p.article for p in pairs})
    halves = [set(articles[0::2]), set(articles[1::2])]
    rows: list[dict[str, Any]] = []
    for number, held in enumerate(halves, start=1):
        model, tokenizer = train(
            [p for p in pairs if p.article not in held], args.epochs, args.batch, args.lr, args.seed
        )
        # The fold model scores its held-out articles in the full pipeline too (calibration).
        export(model, tokenizer, FOLDS / f"fold-{number}")
        (FOLDS / f"fold-{number}" / "held_out.json").write_text(json.dumps(sorted(held)) + "\n")
        test = [p for p in pairs if p.article in held]
        for pair, logit in zip(test, score(model, tokenizer, test), strict=True):
            rows.append({**pair.__dict__, "logit": logit})
        log.info(
            "fold %s: AUC %.3f",
            sorted(held),
            auc([p.label for p in test], [r["logit"] for r in rows[-len(test) :]]),
        )
    return rows


def export(model: Any, tokenizer: Any, target: Path) -> None:
    """ONNX (int8 dynamic quantisation) + tokenizer into *target*."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / "tokenizer", ignore_errors=True)
    fp32 = target / "model-fp32.onnx"
    sample = encode(tokenizer, [Pair("a question?", "a sentence.", 0, "", "")])
    torch.onnx.export(
        model,
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={
            n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids")
        },
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(target / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    tokenizer.save_pretrained(str(target / "tokenizer"))
    for extra in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (target / "tokenizer" / extra).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N pairs (smoke)")
    parser.add_argument("--skip-folds", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(os.cpu_count() or 1)
    pairs = squad_pairs(json.loads(TRAIN.read_text(encoding="utf-8")), seed=args.seed)
    if args.limit:
        pairs = pairs[: args.limit]
    started = time.perf_counter()
    if not args.skip_folds:
        rows = out_of_fold(pairs, args)
        (FOLDS / "pairs_oof.json").write_text(json.dumps(rows) + "\n")
    model, tokenizer = train(pairs, args.epochs, args.batch, args.lr, args.seed)
    export(model, tokenizer, args.out)  # replaces model.onnx and tokenizer/, keeps the card
    facts = {
        "pairs": len(pairs),
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    (args.out / "training.json").write_text(json.dumps(facts, indent=1) + "\n")
    log.info("done: %s", facts)


if __name__ == "__main__":
    main()
