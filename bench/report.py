"""Render the cached benchmark results into ``docs/BENCHMARKS.md``.

Only the part between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` is
rewritten; the analysis written around it by people is kept. Results live in one
folder per machine kind (``bench/results/<tag>/``); every table row names the
machine it was measured on, and a legend under the tables gives each machine's CPU
model, vector units (AVX2 / AVX512 / AMX), cores and package versions, with the
commands that produced its figures. Steps that were not measured show as "not
measured".

It measures nothing itself (see :mod:`bench.run`).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SIZES = [
    ("article", "article (1 doc)"),
    ("200", "200 docs"),
    ("1k", "1,000 docs"),
    ("20k", "20,000 docs"),
]
Results = dict[str, dict[str, Any]]  # step name ("1k-ingest-ours") -> its result


def load_results(folder: Path) -> dict[str, Results]:
    """Every machine's results under *folder*: ``{tag: {step: result}}``.

    Only ``<machine>/<size>-<step>.json``: studies (``<machine>/studies/``) are not rows.
    """
    machines: dict[str, Results] = {}
    for sub in sorted(p for p in folder.glob("*") if p.is_dir()):
        steps = {f.stem: json.loads(f.read_text()) for f in sorted(sub.glob("*.json"))}
        if steps:
            machines[sub.name] = steps
    return machines


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
INT8_ROW = "ours, int8 ingest (RAG_EMBEDDING_PRECISION=int8, opt-in)"


def _measured(machines: dict[str, Results], size: str, steps: tuple[str, ...]) -> list[str]:
    """The machines holding at least one of *steps* for *size*, in tag order."""
    return [tag for tag, res in machines.items() if any(f"{size}-{s}" in res for s in steps)]


def _ingest_rows(label: str, tag: str, res_of: Results, size: str) -> list[str]:
    rows = []
    rates: dict[str, tuple[float, float]] = {}
    runs = [
        ("ours", res_of.get(f"{size}-ingest-ours")),
        (FP32_ROW, res_of.get(f"{size}-ingest-ours-fp32")),
        (INT8_ROW, res_of.get(f"{size}-ingest-ours-int8")),
        ("baseline", res_of.get(f"{size}-ingest-baseline")),
    ]
    for name, res in runs:
        if name in (FP32_ROW, INT8_ROW) and not res:
            continue
        if not res:
            rows.append(f"| {label} | {tag} | {name} | not measured | | | | | | | |")
            continue
        docs = res.get("added") if res.get("resumed") else res["documents"]
        chunks = res["embedded"]
        cps, dps = chunks / res["seconds"], (docs or 0) / res["seconds"]
        rates[name] = (cps, dps)
        note = " (resumed part)" if res.get("resumed") else ""
        precision = f" [{res['ingest_precision']}]" if res.get("ingest_precision") else ""
        speed = ""
        if name == "baseline":
            speed = "; ".join(
                f"{who}: {_ratio(r[0], cps)}, {_ratio(r[1], dps)}"
                for who, r in rates.items()
                if who != "baseline"
            )
        rows.append(
            f"| {label} | {tag} | {name}{precision}{note} | {docs:,} | {chunks:,} "
            f"| {_f(res['seconds'])} | {_f(cps)} | {_f(dps, 2)} | {_f(res['peak_rss_mb'], 0)} "
            f"| {speed} | {_load_note(res)} |"
        )
    return rows


def ingest_table(machines: dict[str, Results]) -> list[str]:
    """Ingest throughput and memory, ours vs the tutorial pipeline, per machine."""
    rows = [
        "| corpus | machine | pipeline | docs | chunks | seconds | chunks/s | docs/s "
        "| peak RSS MB | speed-up over baseline (chunks/s, docs/s) | load avg |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    steps = ("ingest-ours", "ingest-ours-fp32", "ingest-ours-int8", "ingest-baseline")
    for size, label in SIZES:
        tags = _measured(machines, size, steps)
        if not tags:
            rows.append(f"| {label} | | not measured | | | | | | | | |")
        for tag in tags:
            rows += _ingest_rows(label, tag, machines[tag], size)
    return rows


def query_table(machines: dict[str, Results]) -> list[str]:
    """Latency of retrieval alone and of a full extractive answer, per machine."""
    rows = [
        "| corpus | machine | store (docs / chunks) | ours retrieval p50 / p95 ms "
        "| baseline similarity_search p50 / p95 ms "
        "| ratio (p50) | ours full answer p50 / p95 ms | ours first question s | ours RSS MB "
        "| baseline RSS MB | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for size, label in SIZES:
        tags = _measured(machines, size, ("query-ours", "query-baseline"))
        if not tags:
            rows.append(f"| {label} | | | not measured | | | | | | | |")
        for tag in tags:
            ours = machines[tag].get(f"{size}-query-ours")
            base = machines[tag].get(f"{size}-query-baseline")
            o_r = _p50_p95(ours, "retrieval_ms")
            o_a = _p50_p95(ours, "answer_ms")
            b_r = _p50_p95(base, "retrieval_ms")
            held = f"{ours['documents']:,} / {ours['chunks']:,}" if ours else ""
            rows.append(
                f"| {label} | {tag} | {held} | {_pair(o_r)} | {_pair(b_r)} "
                f"| {_ratio(o_r[0] if o_r else None, b_r[0] if b_r else None, False)} "
                f"| {_pair(o_a)} | {_f(ours and ours['first_question_s'])} "
                f"| {_f(ours and ours['peak_rss_mb'], 0)} "
                f"| {_f(base and base['peak_rss_mb'], 0)} | {_load_note(ours, base)} |"
            )
    return rows


def _p50_p95(result: dict[str, Any] | None, key: str) -> tuple[float, float] | None:
    if not result:
        return None
    return _pct(result[key], 0.5), _pct(result[key], 0.95)


def _pair(pair: tuple[float, float] | None) -> str:
    return "–" if pair is None else f"{pair[0]:.1f} / {pair[1]:.1f}"


def cold_table(machines: dict[str, Results]) -> list[str]:
    """Process start to first answer: CLI and browser, per machine."""
    rows = [
        "| corpus | machine | `rag ask` median s (runs) | tutorial script median s | ratio "
        "| ask peak RSS MB | app: page ready s | app: first answer s | app server peak RSS MB "
        "| load avg |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for size, label in SIZES:
        tags = _measured(machines, size, ("cold-ours", "cold-baseline", "app"))
        if not tags:
            rows.append(f"| {label} | | not measured | | | | | | | |")
        for tag in tags:
            res = machines[tag]
            ours, base = res.get(f"{size}-cold-ours"), res.get(f"{size}-cold-baseline")
            app = res.get(f"{size}-app")
            o = statistics.median(ours["seconds"]) if ours else None
            b = statistics.median(base["seconds"]) if base else None
            runs = ", ".join(f"{s:.1f}" for s in ours["seconds"]) if ours else ""
            rows.append(
                f"| {label} | {tag} | {_f(o, 2)} ({runs}) | {_f(b, 2)} | {_ratio(o, b, False)} "
                f"| {_f(ours and ours['peak_rss_mb'], 0)} "
                f"| {(app or {}).get('error') or _f(app and app.get('ready_s'), 1)} "
                f"| {_f(app and app.get('first_answer_s'), 1)} "
                f"| {_f(app and app.get('server_peak_rss_mb'), 0)} "
                f"| {_load_note(ours, base, app)} |"
            )
    return rows


def legend(machines: dict[str, Results]) -> list[str]:
    """One line per machine: CPU model, vector units, cores, versions, commands."""
    lines = []
    for tag, res in machines.items():
        info = next((r["machine"] for r in res.values() if "machine" in r), None)
        commands = sorted({r["command"] for r in res.values() if r.get("command")})
        when = sorted(r.get("measured_at", "") for r in res.values())
        if info is None:
            lines.append(f"- `{tag}`: machine not recorded")
            continue
        lines.append(
            f"- `{tag}`: {info['cpu']}, {info['nproc']} CPUs, vector units "
            f"**{info['isa']}**, {info['ram']} RAM, no GPU; Python {info['python']}, torch "
            f"{info['torch']}, onnxruntime {info['onnxruntime']}, chromadb {info['chromadb']}, "
            f"sentence-transformers {info['sentence_transformers']}; measured "
            f"{when[0]} to {when[-1]} with " + ", ".join(f"`{c}`" for c in commands)
        )
    return lines


def generated(machines: dict[str, Results]) -> str:
    """The generated block: the three tables, then the machines they ran on."""
    lines = [
        BEGIN,
        "",
        "Each row names the machine it was measured on (legend below the tables). Load "
        "average is the 1-minute figure before/after each step (other work may share "
        "the 2 cores).",
        "",
        "### Ingest",
        "",
        *ingest_table(machines),
        "",
        "### Query latency (30 questions each, after one warm-up question)",
        "",
        *query_table(machines),
        "",
        "### Cold start",
        "",
        *cold_table(machines),
        "",
        "### Machines",
        "",
        *legend(machines),
        "",
        END,
    ]
    return "\n".join(lines)


def write_report(out: Path, results: Path) -> None:
    """Replace the generated block of *out* from *results* (create the file if needed)."""
    block = generated(load_results(results))
    text = out.read_text() if out.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text += "\n" + block + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
