"""Render the cached benchmark results into ``docs/BENCHMARKS.md``.

Only the part between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` is
rewritten; the analysis written around it by people is kept. Steps that were not
measured show as "not measured".

It measures nothing itself (see :mod:`bench.run`).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench.corpus import CACHE

RESULTS = CACHE / "results"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SIZES = [("article", "article (1 doc)"), ("1k", "1,000 docs"), ("20k", "20,000 docs")]


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(ours: float | None, base: float | None, higher_is_better: bool = True) -> str:
    if not ours or not base:
        return "–"
    return f"{(ours / base if higher_is_better else base / ours):.2f}x"


def _load_note(*results: dict[str, Any] | None) -> str:
    loads = [r.get("load_before") for r in results if r] + [
        r.get("load_after") for r in results if r
    ]
    loads = [x for x in loads if x is not None]
    return f"{min(loads):.1f}–{max(loads):.1f}" if loads else "–"


FP32_ROW = "ours, fp32 only (no bf16 ingest)"


def ingest_table() -> list[str]:
    """Ingest throughput and memory, ours vs the tutorial pipeline."""
    rows = [
        "| corpus | pipeline | docs | chunks | seconds | chunks/s | docs/s | peak RSS MB "
        "| speed-up over baseline (chunks/s, docs/s) | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for size, label in SIZES:
        ours, base = _load(f"{size}-ingest-ours"), _load(f"{size}-ingest-baseline")
        fp32_run = _load(f"{size}-ingest-ours-fp32")
        rates: dict[str, tuple[float, float]] = {}
        runs = [("ours", ours), (FP32_ROW, fp32_run), ("baseline", base)]
        for name, res in runs:
            if name == FP32_ROW and not res:
                continue
            if not res:
                rows.append(f"| {label} | {name} | not measured | | | | | | | |")
                continue
            docs = res.get("added") if res.get("resumed") else res["documents"]
            chunks = res["embedded"]
            cps, dps = chunks / res["seconds"], (docs or 0) / res["seconds"]
            rates[name] = (cps, dps)
            note = " (resumed part)" if res.get("resumed") else ""
            speed = ""
            if name == "baseline":
                speed = "; ".join(
                    f"{who}: {_ratio(r[0], cps)}, {_ratio(r[1], dps)}"
                    for who, r in rates.items()
                    if who != "baseline"
                )
            rows.append(
                f"| {label} | {name}{note} | {docs:,} | {chunks:,} | {_f(res['seconds'])} "
                f"| {_f(cps)} | {_f(dps, 2)} | {_f(res['peak_rss_mb'], 0)} | {speed} "
                f"| {_load_note(res)} |"
            )
    return rows


def query_table() -> list[str]:
    """Latency of retrieval alone and of a full extractive answer."""
    rows = [
        "| corpus | store (docs / chunks) | ours retrieval p50 / p95 ms "
        "| baseline similarity_search p50 / p95 ms "
        "| ratio (p50) | ours full answer p50 / p95 ms | ours first question s | ours RSS MB "
        "| baseline RSS MB | load avg |",
        "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for size, label in SIZES:
        ours, base = _load(f"{size}-query-ours"), _load(f"{size}-query-baseline")
        if not ours and not base:
            rows.append(f"| {label} | | not measured | | | | | | | |")
            continue
        o_r = (_pct(ours["retrieval_ms"], 0.5), _pct(ours["retrieval_ms"], 0.95)) if ours else None
        o_a = (_pct(ours["answer_ms"], 0.5), _pct(ours["answer_ms"], 0.95)) if ours else None
        b_r = (_pct(base["retrieval_ms"], 0.5), _pct(base["retrieval_ms"], 0.95)) if base else None
        held = f"{ours['documents']:,} / {ours['chunks']:,}" if ours and "chunks" in ours else ""
        rows.append(
            f"| {label} | {held} | {_pair(o_r)} | {_pair(b_r)} "
            f"| {_ratio(o_r[0] if o_r else None, b_r[0] if b_r else None, False)} "
            f"| {_pair(o_a)} | {_f(ours and ours['first_question_s'])} "
            f"| {_f(ours and ours['peak_rss_mb'], 0)} | {_f(base and base['peak_rss_mb'], 0)} "
            f"| {_load_note(ours, base)} |"
        )
    return rows


def _pair(pair: tuple[float, float] | None) -> str:
    return "–" if pair is None else f"{pair[0]:.1f} / {pair[1]:.1f}"


def cold_table() -> list[str]:
    """Process start to first answer: CLI and browser."""
    rows = [
        "| corpus | `rag ask` median s (runs) | tutorial script median s | ratio "
        "| ask peak RSS MB | app: page ready s | app: first answer s | app server peak RSS MB "
        "| load avg |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for size, label in SIZES:
        ours, base, app = (
            _load(f"{size}-cold-ours"),
            _load(f"{size}-cold-baseline"),
            _load(f"{size}-app"),
        )
        if not (ours or base or app):
            rows.append(f"| {label} | not measured | | | | | | | |")
            continue
        o = statistics.median(ours["seconds"]) if ours else None
        b = statistics.median(base["seconds"]) if base else None
        runs = ", ".join(f"{s:.1f}" for s in ours["seconds"]) if ours else ""
        rows.append(
            f"| {label} | {_f(o, 2)} ({runs}) | {_f(b, 2)} | {_ratio(o, b, False)} "
            f"| {_f(ours and ours['peak_rss_mb'], 0)} "
            f"| {(app or {}).get('error') or _f(app and app.get('ready_s'), 1)} "
            f"| {_f(app and app.get('first_answer_s'), 1)} "
            f"| {_f(app and app.get('server_peak_rss_mb'), 0)} | {_load_note(ours, base, app)} |"
        )
    return rows


def generated(machine: dict[str, str], command: str) -> str:
    """The generated block: machine, command, the three tables."""
    lines = [
        BEGIN,
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram']} RAM, no GPU; "
        f"Python {machine['python']}, torch {machine['torch']}, onnxruntime "
        f"{machine['onnxruntime']}, chromadb {machine['chromadb']}, sentence-transformers "
        f"{machine['sentence_transformers']}, langchain-chroma {machine['langchain_chroma']}.",
        "",
        f"Command: `{command}`. Load average is the 1-minute figure before/after each step "
        "(other engineers' test runs share the 2 cores).",
        "",
        "### Ingest",
        "",
        *ingest_table(),
        "",
        "### Query latency (30 questions each, after one warm-up question)",
        "",
        *query_table(),
        "",
        "### Cold start",
        "",
        *cold_table(),
        "",
        END,
    ]
    return "\n".join(lines)


def write_report(out: Path, machine: dict[str, str], command: str) -> None:
    """Replace the generated block of *out* (create the file if needed)."""
    block = generated(machine, command)
    text = out.read_text() if out.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text += "\n" + block + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
