"""Fine-tune the reader from the bundled MiniLM weights; checkpoints, resumes, exports.

``python -m training.reader.train`` (``make train-reader``) builds the training
examples of the *train* split (:mod:`training.reader.splits`, :mod:`training.reader.data`),
cuts them into windows, and trains :class:`training.reader.model.ReaderNet` with AdamW
(linear warm-up and decay). Every ``--save-every`` steps it writes a checkpoint
(weights, optimiser, schedule, position) atomically to ``--work``; run the same command
again and it resumes at the next batch it had not done, with the same batch order. At the
end of each epoch it scores span EM/F1 and no-answer accuracy on calibration-split
examples (never dev), and after the last epoch exports to ONNX
(:mod:`training.reader.export`).

bf16 autocast where the CPU has bf16 units (AMX or AVX512-BF16); elsewhere fp32 (bf16
is emulated and several times slower there). ``--tiny`` trains on a few hundred
examples in seconds (the test's end-to-end run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from rag.answering.windows import WindowMaker
from rag.embeddings import bundled_model_path
from training.reader import features as feats
from training.reader.data import Example, Mix, gold_examples, training_examples
from training.reader.model import ReaderNet, loss
from training.reader.splits import ROOT, Article, articles

log = logging.getLogger(__name__)

WORK = ROOT / "build" / "reader"
# Tokens per training window: our chunks (~600 characters) are ~150 tokens, and a
# shorter window costs less (bf16, 2 cores: ~13 windows/s at 160 tokens).
TRAIN_LENGTH = 160


@dataclass(frozen=True)
class Plan:
    """Everything that fixes a run: a resumed run must have the same plan."""

    epochs: int = 1
    batch: int = 32
    lr: float = 1e-4
    warmup: float = 0.05
    seed: int = 13
    limit: int = 0  # 0: every example; else the first N (tiny runs)
    init: str = ""  # a checkpoint whose weights start this run ("": the bundled MiniLM)
    mix: Mix = field(default_factory=Mix)


def bf16_ok() -> bool:
    """True on CPUs with native bf16 (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n")[0].split()
    except (OSError, IndexError):
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def tokenizer() -> Any:
    """The bundled model's WordPiece tokenizer (``tokenizers``)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))


def load_windows(plan: Plan, work: Path, data_root: Path | None) -> list[feats.Labelled]:
    """The training windows of *plan*, built once and cached in *work*."""
    key = json.dumps(asdict(plan), sort_keys=True).encode()
    cache = work / f"windows-{hashlib.sha256(key).hexdigest()[:12]}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    started = time.perf_counter()
    train_articles = list(articles("train", data_root))
    if plan.limit:  # a tiny run: a few articles are plenty, and load in a second
        train_articles = train_articles[:3]
    examples = training_examples(train_articles, plan.mix, plan.seed)
    if plan.limit:
        examples = examples[: plan.limit]
    _log_mix(examples)
    maker = WindowMaker(tokenizer(), max_length=TRAIN_LENGTH)
    windows = feats.featurize(maker, examples, crop=True)
    log.info("%d windows in %.0f s", len(windows), time.perf_counter() - started)
    work.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(windows))
    os.replace(partial, cache)
    return windows


def _log_mix(examples: Sequence[Example]) -> None:
    counts: dict[str, int] = {}
    for e in examples:
        counts[f"{e.dataset}/{e.kind}"] = counts.get(f"{e.dataset}/{e.kind}", 0) + 1
    log.info("%d examples: %s", len(examples), json.dumps(dict(sorted(counts.items()))))


def schedule(optimizer: Any, total: int, warmup: float) -> Any:
    """Linear warm-up over *warmup* of the steps, then linear decay to 0."""
    ramp = max(1, int(total * warmup))

    def factor(step: int) -> float:
        return min((step + 1) / ramp, max(0.0, (total - step) / max(1, total - ramp)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def save(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (a kill mid-write leaves the last one intact)."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def train(
    plan: Plan,
    work: Path,
    save_every: int,
    data_root: Path | None = None,
    stop_after: int = 0,
) -> ReaderNet | None:
    """Train (or resume) per *plan*; the trained network in eval mode.

    *stop_after* > 0 stops after that many steps, right after a checkpoint, and
    returns None: a kill at a known place (the resume test).
    """
    torch.manual_seed(plan.seed)
    windows = load_windows(plan, work, data_root)
    lengths = [len(w.ids) for w in windows]
    per_epoch = len(feats.batches(lengths, plan.batch, plan.seed))
    model = ReaderNet(bundled_model_path())
    if plan.init:  # a further stage: start from an earlier run's weights
        model.load_state_dict(torch.load(plan.init, weights_only=False)["model"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=plan.lr, weight_decay=0.01)
    lr_schedule = schedule(optimizer, plan.epochs * per_epoch, plan.warmup)
    done = _resume(work / "checkpoint.pt", plan, model, optimizer, lr_schedule)
    autocast = bf16_ok()
    log.info(
        "%d windows, %d steps per epoch, %d epochs, from step %d, bf16 %s",
        len(windows),
        per_epoch,
        plan.epochs,
        done,
        autocast,
    )
    for epoch in range(done // per_epoch, plan.epochs):
        order = feats.batches(lengths, plan.batch, plan.seed * 1000 + epoch)
        model.train()
        started, first = time.perf_counter(), done
        for index in range(done - epoch * per_epoch, per_epoch):
            batch = feats.collate([windows[i] for i in order[index]])
            value = _step(model, optimizer, lr_schedule, batch, autocast)
            done += 1
            if done % 50 == 0:
                rate = (done - first) * plan.batch / (time.perf_counter() - started)
                log.info("epoch %d step %d loss %.3f %.1f windows/s", epoch, done, value, rate)
            if done % save_every == 0 or index == per_epoch - 1 or done == stop_after:
                _checkpoint(
                    work / "checkpoint.pt",
                    plan,
                    model=model,
                    opt=optimizer,
                    sched=lr_schedule,
                    done=done,
                )
            if done == stop_after:
                return None
        scores = quick_eval(model, data_root, limit=50 if plan.limit else 600)
        log.info("epoch %d done: %s", epoch, json.dumps(scores))
    model.eval()
    return model


def _step(model: Any, optimizer: Any, lr_schedule: Any, batch: dict, autocast: bool) -> float:
    tensors = {k: torch.from_numpy(v) for k, v in batch.items()}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        outputs = model(tensors["input_ids"], tensors["attention_mask"], tensors["token_type_ids"])
    value = loss(outputs, tensors["starts"], tensors["ends"])
    value.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    lr_schedule.step()
    optimizer.zero_grad(set_to_none=True)
    return float(value.item())


def _checkpoint(path: Path, plan: Plan, *, model: Any, opt: Any, sched: Any, done: int) -> None:
    state = {
        "plan": asdict(plan),
        "done": done,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "schedule": sched.state_dict(),
        "rng": torch.get_rng_state(),
    }
    save(path, state)
    log.info("checkpoint at step %d", done)


def _resume(path: Path, plan: Plan, model: Any, opt: Any, sched: Any) -> int:
    """Steps already done (0 for a fresh run); loads the checkpoint into the objects."""
    if not path.is_file():
        return 0
    state = torch.load(path, weights_only=False)
    if state["plan"] != asdict(plan):
        raise SystemExit(
            f"{path} belongs to another plan ({state['plan']}); pass the same options, "
            "or delete the folder to start over."
        )
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["schedule"])
    torch.set_rng_state(state["rng"])
    log.info("resuming after step %d", state["done"])
    return int(state["done"])


@torch.inference_mode()
def quick_eval(model: Any, data_root: Path | None, limit: int = 600) -> dict[str, float]:
    """Span EM/F1 and no-answer accuracy on calibration examples with their paragraph."""
    from rag.answering.spans import window_spans
    from rag.eval.metrics.answers import exact_match, f1_score

    model.eval()
    cal: list[Article] = list(articles("calibrate", data_root))
    examples = gold_examples(cal)
    random.Random(0).shuffle(examples)
    maker = WindowMaker(tokenizer())
    em, f1, none_right, answerable, unanswerable = 0.0, 0.0, 0, 0, 0
    for example in examples[:limit]:
        windows = maker.windows(example.question, [example.context])
        batch = feats.collate(feats.featurize(maker, [example]))
        tensors = [
            torch.from_numpy(batch[k]) for k in ("input_ids", "attention_mask", "token_type_ids")
        ]
        start, end, has = (t.float().numpy() for t in model(*tensors))
        spans = window_spans(windows, start, end, has)
        best = max(spans, key=lambda s: s.score - s.null)
        says_answer = best.score > best.null
        if example.answer_start is None:
            unanswerable += 1
            none_right += not says_answer
            continue
        answerable += 1
        text = example.context[best.char_start : best.char_end]
        em += exact_match(text, [example.answer_text])
        f1 += f1_score(text, [example.answer_text])
    model.train()
    return {
        "em": round(em / max(1, answerable), 4),
        "f1": round(f1 / max(1, answerable), 4),
        "no_answer_accuracy": round(none_right / max(1, unanswerable), 4),
        "answerable": answerable,
        "unanswerable": unanswerable,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: train (or resume), then export."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=Plan.epochs)
    parser.add_argument("--batch", type=int, default=Plan.batch)
    parser.add_argument("--lr", type=float, default=Plan.lr)
    parser.add_argument("--seed", type=int, default=Plan.seed)
    parser.add_argument("--warmup", type=float, default=Plan.warmup)
    parser.add_argument(
        "--init", default="", help="start from this checkpoint's weights (a further stage)"
    )
    parser.add_argument(
        "--mix", default="{}", help='JSON overrides of the example mix, e.g. {"tydi_repeat": 3}'
    )
    parser.add_argument("--tiny", action="store_true", help="a few hundred examples, seconds")
    parser.add_argument("--work", type=Path, default=WORK, help="checkpoints and caches")
    parser.add_argument("--out", type=Path, default=None, help="export folder")
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--data", type=Path, default=None, help="../shared/data by default")
    parser.add_argument(
        "--export-only", action="store_true", help="export the last checkpoint as it is"
    )
    parser.add_argument("--stop-after", type=int, default=0, help="stop after N steps (tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    plan = Plan(
        args.epochs,
        args.batch,
        args.lr,
        args.warmup,
        seed=args.seed,
        limit=300 if args.tiny else 0,
        mix=Mix(**json.loads(args.mix)),
        init=args.init,
    )
    if args.tiny:
        plan = Plan(1, 8, 3e-4, seed=args.seed, limit=300)
    from training.reader.export import export

    if args.export_only:
        model = ReaderNet(bundled_model_path())
        model.load_state_dict(torch.load(args.work / "checkpoint.pt", weights_only=False)["model"])
    else:
        trained = train(plan, args.work, args.save_every, args.data, args.stop_after)
        if trained is None:
            return
        model = trained

    out = args.out or (args.work / "export")
    export(model, out)
    log.info("exported to %s", out)


if __name__ == "__main__":
    main()
