"""int8 ingest embeddings measured against fp32 and the tutorial pipeline.

``python -m bench.quantize`` (steps: files, speed, avx2, retrieval):

* files: the fp32 ONNX export (made if missing) and its dynamically quantized int8
  copies next to it in the cache folder: the recipe ingest uses (per-channel 7-bit
  weights, ``reduce_range``), full 8-bit weights, per-tensor weights, and the recipe
  with the feed-forward output layers kept fp32;
* speed: chunks/s over the chunks of ``seeds/`` and ``eval/squad2/{dev,train}/``, each
  configuration in its own process (:mod:`bench.quantize_worker`), rounds interleaved
  so the other engineers' load falls on every configuration alike: fp32 vs int8, batch
  sizes of length-sorted batches, unsorted batches, 1 or 2 ONNX Runtime threads, and
  the tutorial pipeline (sentence-transformers fp32, batch 32), also under oneDNN/MKL
  limited to AVX2 (an *emulation* for torch only); cosines of every run to fp32;
* avx2: the int8 files run by ONNX Runtime under QEMU emulating an AVX2-only AMD EPYC
  (ONNX Runtime picks its kernels from CPUID, and QEMU's CPUID has no AVX-512, VNNI or
  AMX): cosines only, since emulated speed means nothing;
* retrieval: ``python -m rag.eval`` on every retrieval set ``make eval`` scores (EVALS;
  ``--sets`` picks some, the others keep their last result) with document vectors in
  fp32 and in int8 (questions fp32), each in its own cache folder so the two stores
  never mix.

The verdict is issue 27's one-sided rule: ``auto`` may pick int8 where there is no bf16
when no retrieval metric drops more than 0.01 below fp32 on any set and the int8
vectors' cosine p1 to fp32 is >= 0.98 (from the speed and avx2 steps, or from earlier
results files named by ``--cosine-from``).

Results go to ``.cache/bench/results/quantize.json`` (a step not rerun keeps its last
result) and the block between the markers of ``docs/QUANTIZATION.md``. It asserts
nothing and changes no store outside ``.cache/bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import machine as host
from bench.corpus import CACHE, ROOT
from bench.run import _env  # the clean subprocess environment every benchmark uses

RESULTS_FILE = CACHE / "results" / "quantize.json"
WORK = CACHE / "quantize"
DOC = ROOT / "docs" / "QUANTIZATION.md"
BEGIN, END = "<!-- quantize:begin -->", "<!-- quantize:end -->"
STEPS = ("files", "speed", "avx2", "retrieval")
# torch's own switches for "use AVX2 kernels only"; ONNX Runtime has none.
AVX2_ENV = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
}
QEMU_CPU = "EPYC-Milan"  # AMD Zen 3: AVX2 and FMA, no AVX-512, no VNNI
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
# Every set `make eval` scores retrieval on (the follow-up set scores conversations).
EVALS = {
    "calais": ("eval/qa_calais.jsonl", "seeds"),
    "squad2-dev": ("eval/squad2/dev.json", "eval/squad2/dev"),
    "tydi-dev": ("eval/tydi/dev.json", "eval/tydi/dev"),
    "squad11-dev-extra": ("eval/squad11-dev-extra/dev.json", "eval/squad11-dev-extra/dev"),
    "squadshifts-dev": ("eval/squadshifts/dev.json", "eval/squadshifts/dev"),
}
SPEED_COLUMNS = (
    "configuration",
    "chunks/s median",
    "best",
    "x tutorial (same threads)",
    "x ONNX fp32 (same threads)",
)
RETRIEVAL = ("hit@1", "hit@3", "mrr", "recall@k")
ANSWERS = ("coverage", "refusal_accuracy", "decision_accuracy")


@dataclass(frozen=True)
class Config:
    """One throughput configuration: which encoder, batch, threads, environment."""

    name: str
    label: str
    variant: str = "fp32"  # a key of variants(); ignored for the tutorial
    batch: int = 4
    threads: int = 0
    unsorted: bool = False
    tutorial: bool = False
    avx2_env: bool = False


CONFIGS = (
    Config("fp32", "ONNX fp32, batch 4 (ingest today without bf16)"),
    Config("fp32-t1", "ONNX fp32, batch 4, 1 thread", threads=1),
    Config("fp32-b16", "ONNX fp32, batch 16", batch=16),
    Config("fp32-b32-unsorted", "ONNX fp32, batch 32, not length-sorted", batch=32, unsorted=True),
    Config("int8", "ONNX int8, batch 4 (ingest with int8)", "int8"),
    Config("int8-t1", "ONNX int8, batch 4, 1 thread", "int8", threads=1),
    Config("int8-b1", "ONNX int8, batch 1", "int8", batch=1),
    Config("int8-b16", "ONNX int8, batch 16", "int8", batch=16),
    Config("int8-b32", "ONNX int8, batch 32", "int8", batch=32),
    Config("int8-8bit", "ONNX int8, full 8-bit weights, batch 4", "int8-8bit"),
    Config("int8-pt", "ONNX int8 per-tensor weights, batch 4", "int8-pt"),
    Config("int8-ffn32", "ONNX int8, FFN output layers fp32, batch 4", "int8-ffn32"),
    Config("tutorial", "tutorial: sentence-transformers fp32, batch 32", batch=32, tutorial=True),
    Config(
        "tutorial-avx2",
        "tutorial, torch limited to AVX2 (emulated)",
        batch=32,
        tutorial=True,
        avx2_env=True,
    ),
    # One thread each: a whole core stays free for it while others share the machine,
    # so these rows hold still from round to round (per-core speed).
    Config("tutorial-t1", "tutorial, 1 thread", batch=32, threads=1, tutorial=True),
    Config(
        "tutorial-avx2-t1",
        "tutorial, 1 thread, torch limited to AVX2 (emulated)",
        batch=32,
        threads=1,
        tutorial=True,
        avx2_env=True,
    ),
)


# ----- helpers ---------------------------------------------------------------------
def _load() -> float:
    return round(os.getloadavg()[0], 2)


def cosine_stats(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """min, p1, p5 and median of the row-wise cosines (rows are unit vectors)."""
    cos = np.sum(vectors * reference, axis=1)
    p1, p5, median = np.percentile(cos, [1, 5, 50])
    return {
        "n": len(cos),
        "min": round(float(cos.min()), 5),
        "p1": round(float(p1), 5),
        "p5": round(float(p5), 5),
        "median": round(float(median), 5),
    }


def machine() -> dict[str, Any]:
    """The host as bench.machine describes it, plus the flags this study turns on."""
    from rag.embeddings import cpu_flags

    flags = cpu_flags()
    return {**host.describe(), "flags": [f for f in FLAGS if f in flags], "load": _load()}


# ----- files -------------------------------------------------------------------------
def fp32_file() -> Path:
    """The ONNX export ingest uses (exported now if this machine has none yet)."""
    from rag.config import Settings
    from rag.embeddings import bundled_model_path, export_onnx, onnx_file

    target = onnx_file(Settings(_env_file=None), bundled_model_path())
    return target if target.is_file() else export_onnx(bundled_model_path(), target)


def variants(fp32: Path) -> dict[str, Path]:
    """Every ONNX file the study runs, by name (``int8`` is the one ingest uses)."""
    from rag.embeddings import int8_file

    return {
        "fp32": fp32,
        "int8": int8_file(fp32),
        "int8-8bit": int8_file(fp32, reduce_range=False),
        "int8-pt": int8_file(fp32, per_channel=False),
        "int8-ffn32": fp32.with_name("model.int8-bench-ffn32.onnx"),
    }


def _ffn_outputs(fp32: Path) -> list[str]:
    """The feed-forward output MatMuls: the layers whose inputs (after GELU) have outliers."""
    import onnx

    graph = onnx.load(str(fp32), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name]


def make_files(fresh: bool) -> dict[str, Any]:
    """Quantize the int8 variants that are missing (all of them when *fresh*)."""
    from rag.embeddings import quantize_int8

    fp32 = fp32_file()
    options = {
        "int8": {},
        "int8-8bit": {"reduce_range": False},
        "int8-pt": {"per_channel": False},
        "int8-ffn32": {"exclude": [n for n in _ffn_outputs(fp32) if "attention" not in n]},
    }
    made = {}
    for name, path in variants(fp32).items():
        if name != "fp32" and (fresh or not path.is_file()):
            start = time.perf_counter()
            quantize_int8(fp32, path, **options[name])
            made[name] = round(time.perf_counter() - start, 2)
    sizes = {n: round(p.stat().st_size / 1e6, 1) for n, p in variants(fp32).items()}
    return {"folder": str(fp32.parent), "size_mb": sizes, "quantize_seconds": made}


# ----- speed and cosines -----------------------------------------------------------
def _worker(config: Config, out: Path, sample: int = 0, qemu: bool = False) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.quantize_worker"]
    if config.tutorial:
        args += ["tutorial"]
    else:
        args += ["onnx", str(variants(fp32_file())[config.variant])]
        args += ["--unsorted"] if config.unsorted else []
    args += ["--batch", str(config.batch), "--threads", str(config.threads)]
    args += ["--out", str(out), "--sample", str(sample)]
    if qemu:
        args = ["qemu-x86_64", "-cpu", QEMU_CPU, *args]
    env = _env(**(AVX2_ENV if config.avx2_env else {}))
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{config.name}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed(rounds: int) -> dict[str, Any]:
    """Every configuration *rounds* times, interleaved; cosines from the first round."""
    runs: dict[str, list[dict[str, Any]]] = {c.name: [] for c in CONFIGS}
    vectors = WORK / "vectors"
    for round_no in range(rounds):
        for config in CONFIGS:
            timing = _worker(config, vectors / f"{config.name}.npy")
            runs[config.name].append(timing)
            print(f"round {round_no + 1}/{rounds} {config.name}: {timing}", file=sys.stderr)
    reference = np.load(vectors / "fp32.npy")
    table = {}
    for config in CONFIGS:
        rates = [r["chunks_per_s"] for r in runs[config.name]]
        loads = [r["load_before"] for r in runs[config.name]] + [
            r["load_after"] for r in runs[config.name]
        ]
        table[config.name] = {
            "label": config.label,
            "chunks": runs[config.name][0]["chunks"],
            "median": round(statistics.median(rates), 2),
            "best": max(rates),
            "runs": rates,
            "load": [min(loads), max(loads)],
            "cosine": cosine_stats(np.load(vectors / f"{config.name}.npy"), reference),
        }
    return {"rounds": rounds, "configs": table}


def avx2(sample: int) -> dict[str, Any]:
    """Cosines of the int8 files to fp32 when ONNX Runtime runs its AVX2 kernels (QEMU)."""
    if shutil.which("qemu-x86_64") is None:
        return {"skipped": "qemu-x86_64 not installed (Debian: apt-get install qemu-user)"}
    folder = WORK / "avx2"
    native = {}
    for name in ("fp32", "int8", "int8-8bit"):  # the same sample, natively
        _worker(Config(name, name, name), folder / f"{name}-native.npy", sample)
        native[name] = np.load(folder / f"{name}-native.npy")
    out: dict[str, Any] = {"qemu_cpu": QEMU_CPU, "sample": sample, "variants": {}}
    for name in ("int8", "int8-8bit"):
        start = time.perf_counter()
        _worker(Config(name, name, name), folder / f"{name}-qemu.npy", sample, qemu=True)
        emulated = np.load(folder / f"{name}-qemu.npy")
        out["variants"][name] = {
            "vs_fp32": cosine_stats(emulated, native["fp32"]),
            "native_vs_fp32": cosine_stats(native[name], native["fp32"]),
            # Below 1: QEMU really made ONNX Runtime take other (AVX2) int8 kernels.
            "emulated_vs_native_min": cosine_stats(emulated, native[name])["min"],
            "minutes": round((time.perf_counter() - start) / 60, 1),
        }
        print(f"avx2 {name}: {out['variants'][name]}", file=sys.stderr)
    return out


# ----- retrieval -------------------------------------------------------------------
def _eval_run(name: str, precision: str) -> dict[str, Any]:
    """One ``python -m rag.eval`` run; its own cache folder, sharing only the ONNX files."""
    from rag.config import Settings

    qa, documents = EVALS[name]
    cache = WORK / f"eval-cache-{precision}"
    shutil.rmtree(cache / "eval-stores", ignore_errors=True)  # int8 recipe may have changed
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "onnx").exists():
        (cache / "onnx").symlink_to(Settings(_env_file=None).store.cache_root() / "onnx")
    out = WORK / "eval" / f"{name}-{precision}"
    env = _env(
        RAG_CACHE_DIR=str(cache),
        RAG_EMBEDDING_PRECISION=precision,
        RAG_EMBEDDING_BULK_MIN_TEXTS="1",  # every document vector in this precision
    )
    command = [sys.executable, "-m", "rag.eval", qa, "--documents", documents, "--out", str(out)]
    load_before, start = _load(), time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)
    summary = json.loads((out / "report.json").read_text())["summary"]
    metrics = {m: summary["metrics"][m]["value"] for m in RETRIEVAL + ANSWERS}
    seconds = round(time.perf_counter() - start, 1)
    return {"metrics": metrics, "seconds": seconds, "load": [load_before, _load()]}


def _delta(fp32: dict[str, float | None], int8: dict[str, float | None]) -> dict[str, Any]:
    """int8 minus fp32 per metric; None where a set has no such metric (e.g. no refusals)."""
    return {
        m: None if fp32[m] is None or int8[m] is None else round(int8[m] - fp32[m], 4) for m in fp32
    }


def retrieval(
    names: list[str],
    earlier: dict[str, Any] | None = None,
    save: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """fp32 and int8 document vectors on the eval sets *names*, with the differences.

    Sets measured *earlier* and not named are kept; *save* gets the step after each set,
    so a long run that is stopped keeps the sets it finished.
    """
    sets = dict((earlier or {}).get("sets", {}))
    for name in names:
        fp32, int8 = _eval_run(name, "fp32"), _eval_run(name, "int8")
        delta = _delta(fp32["metrics"], int8["metrics"])
        sets[name] = {"fp32": fp32, "int8": int8, "delta": delta}
        print(f"retrieval {name}: {delta}", file=sys.stderr)
        if save is not None:
            save({"sets": sets})
    return {"sets": sets}


# ----- verdict and report ------------------------------------------------------------
def cosine_evidence(path: Path) -> dict[str, float]:
    """Cosine p1 of the shipped int8 recipe to fp32 recorded in an earlier results file.

    Reads a ``bench.quantize`` results file (its speed and avx2 steps) or a
    ``bench.levers`` one (its int8 configurations), named by file and machine.
    """
    data = json.loads(path.read_text())
    if "steps" in data:
        tag = data.get("machine", {}).get("tag", "?")
        return {f"{path} ({tag}): {k}": v for k, v in _step_cosines(data["steps"]).items()}
    tag = data.get("machine", {}).get("tag", "?")
    int8 = [c["cos_to_fp32_p1"] for n, c in data.get("configs", {}).items() if "int8" in n]
    return (
        {f"{path} ({tag}): int8 cosine p1, lowest of {len(int8)} runs": min(int8)} if int8 else {}
    )


def _step_cosines(steps: dict[str, Any]) -> dict[str, float]:
    found = {}
    if "speed" in steps:
        found["native cosine p1"] = steps["speed"]["configs"]["int8"]["cosine"]["p1"]
    emulated = steps.get("avx2", {}).get("variants", {}).get("int8")
    if emulated:
        found["AVX2 (emulated) cosine p1"] = emulated["vs_fp32"]["p1"]
    return found


def verdict(steps: dict[str, Any], evidence: dict[str, float] | None = None) -> dict[str, Any]:
    """Whether ``auto`` may pick int8 where there is no bf16 hardware (issue 27).

    The rule is one-sided: on every eval set in EVALS, no retrieval metric of int8
    document vectors drops by more than 0.01 below fp32 (a gain is fine), and the int8
    vectors' cosine p1 to fp32 is >= 0.98 (this file's speed and avx2 steps, plus the
    *evidence* recorded from earlier results files). The worst change per set is kept.
    """
    cosines = {**_step_cosines(steps), **(evidence or {})}
    checks = {f"{name} >= 0.98 ({p1:.4f})": p1 >= 0.98 for name, p1 in cosines.items()}
    worst, sets = {}, steps.get("retrieval", {}).get("sets", {})
    for name, result in sets.items():
        metric = min(RETRIEVAL, key=lambda m: result["delta"][m])
        worst[name] = {"metric": metric, "delta": result["delta"][metric]}
        checks[
            f"{name}: no retrieval metric more than 0.01 below fp32 (worst {metric} "
            f"{result['delta'][metric]:+.4f})"
        ] = result["delta"][metric] >= -0.01
    missing = [name for name in EVALS if name not in sets]
    missing += [] if cosines else ["a cosine p1 of int8 to fp32"]
    return {
        "checks": checks,
        "worst": worst,
        "missing": missing,
        "int8_for_auto": not missing and all(checks.values()),
    }


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _cos_cells(stats: dict[str, float]) -> list[Any]:
    return [f"{stats[k]:.4f}" for k in ("min", "p1", "p5", "median")]


def _machine_lines(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    runs = sorted(
        {(s["command"], s["started"][:10], s["machine"]) for s in results["steps"].values()}
    )
    return [
        f"Machine: {m['cpu']} ({m['tag']}), {m['nproc']} CPUs, {m['ram']}; flags: "
        f"{', '.join(m['flags'])}; Python {m['python']}, onnxruntime {m['onnxruntime']}, "
        f"torch {m['torch']}.",
        "",
        "Commands: " + "; ".join(f"`{c}` ({day}, {tag})" for c, day, tag in runs) + ". Load "
        "average: the 1-minute figure, per measurement (other engineers share the 2 cores).",
        "",
    ]


def _files_lines(files: dict[str, Any]) -> list[str]:
    lines = ["### Files", "", _row(["file", "MB", "made in s"]), "| --- | ---: | ---: |"]
    for name, size in files["size_mb"].items():
        lines.append(_row([name, size, files["quantize_seconds"].get(name, "(kept)")]))
    return [*lines, ""]


def _speed_lines(speed_step: dict[str, Any]) -> list[str]:
    table = speed_step["configs"]
    threads = {c.name: c.threads for c in CONFIGS}
    lines = [
        f"### Throughput and cosine to ONNX fp32 ({table['fp32']['chunks']} chunks, "
        f"{speed_step['rounds']} interleaved rounds, one process each)",
        "",
        _row([*SPEED_COLUMNS, "cos min", "p1", "p5", "median", "load avg"]),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in table.items():
        # Compared at the same thread count: 1-thread rows with 1-thread baselines.
        one = threads.get(name) == 1 and "tutorial-t1" in table
        tutorial = table["tutorial-t1" if one else "tutorial"]["median"]
        fp32 = table["fp32-t1" if one else "fp32"]["median"]
        ratios = [f"{row['median'] / tutorial:.2f}", f"{row['median'] / fp32:.2f}"]
        load = f"{row['load'][0]:.1f}–{row['load'][1]:.1f}"
        cells = [row["label"], row["median"], row["best"], *ratios, *_cos_cells(row["cosine"])]
        lines.append(_row([*cells, load]))
    return [*lines, ""]


def _avx2_lines(step: dict[str, Any]) -> list[str]:
    if "skipped" in step:
        return ["### int8 on AVX2 kernels (QEMU)", "", f"Skipped: {step['skipped']}.", ""]
    lines = [
        f"### int8 on ONNX Runtime's AVX2 kernels (QEMU `-cpu {step['qemu_cpu']}`, "
        f"{step['sample']} chunks; accuracy only)",
        "",
        _row(
            [
                "file",
                "cos min",
                "p1",
                "p5",
                "median",
                "same file natively: p1",
                "emulated vs native min",
                "minutes",
            ]
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in step["variants"].items():
        cells = [name, *_cos_cells(row["vs_fp32"]), f"{row['native_vs_fp32']['p1']:.4f}"]
        lines.append(_row([*cells, f"{row['emulated_vs_native_min']:.4f}", row["minutes"]]))
    return [*lines, ""]


def _retrieval_lines(step: dict[str, Any]) -> list[str]:
    lines = [
        "### Retrieval and answers: int8 document vectors vs fp32 (questions fp32)",
        "",
        _row(["set", "metric", "fp32", "int8", "int8 − fp32"]),
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, result in step["sets"].items():
        for metric in RETRIEVAL + ANSWERS:
            a, b = result["fp32"]["metrics"][metric], result["int8"]["metrics"][metric]
            if a is not None and b is not None:  # None: the set has no such question
                lines.append(_row([name, metric, f"{a:.4f}", f"{b:.4f}", f"{b - a:+.4f}"]))
    loads = [
        x for r in step["sets"].values() for p in ("fp32", "int8") for x in (r[p].get("load") or [])
    ]
    if not loads:
        return [*lines, ""]
    return [*lines, "", f"Load average during the eval runs: {min(loads)}–{max(loads)}.", ""]


def render(results: dict[str, Any]) -> str:
    """The generated block of docs/QUANTIZATION.md."""
    steps = results["steps"]
    lines = _machine_lines(results)
    lines += _files_lines(steps["files"]) if "files" in steps else []
    lines += _speed_lines(steps["speed"]) if "speed" in steps else []
    lines += _avx2_lines(steps["avx2"]) if "avx2" in steps else []
    lines += _retrieval_lines(steps["retrieval"]) if "retrieval" in steps else []
    decision = verdict(steps, results.get("cosine_evidence"))
    lines += ["### Verdict for `embedding_precision=auto`", ""]
    lines += [f"- {name}: {'yes' if ok else 'no'}" for name, ok in decision["checks"].items()]
    lines += [f"- not measured: {name}" for name in decision["missing"]]
    lines += [
        "",
        f"int8 may be chosen by `auto`: **{'yes' if decision['int8_for_auto'] else 'no'}**.",
    ]
    return "\n".join(lines)


def write_doc(block: str) -> None:
    """Replace the generated block of docs/QUANTIZATION.md (create the file if missing)."""
    text = DOC.read_text() if DOC.exists() else f"# int8 ingest embeddings\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n\n{block}\n\n{END}{tail}")


def main() -> None:
    """Run the chosen steps, merge them into the results file, re-render the doc."""
    parser = argparse.ArgumentParser(prog="python -m bench.quantize")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma list of {STEPS}")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds (interleaved)")
    parser.add_argument("--avx2-sample", type=int, default=24, help="chunks run under QEMU")
    parser.add_argument("--fresh", action="store_true", help="re-quantize every int8 file")
    parser.add_argument(
        "--sets",
        default=",".join(EVALS),
        help=f"retrieval: comma list of eval sets to (re)measure, others kept; of {list(EVALS)}",
    )
    parser.add_argument("--report-only", action="store_true", help="re-render the doc only")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_FILE,
        help="results file to merge into (another machine's: its own file, and --no-doc)",
    )
    parser.add_argument(
        "--cosine-from",
        type=Path,
        action="append",
        default=[],
        help="an earlier quantize or levers results file whose int8 cosine p1 the verdict uses",
    )
    parser.add_argument(
        "--no-doc", action="store_true", help="write the results file only, not the doc block"
    )
    args = parser.parse_args()
    results_file: Path = args.results
    results = json.loads(results_file.read_text()) if results_file.exists() else {"steps": {}}
    if not args.report_only:
        chosen = [s for s in args.steps.split(",") if s]
        unknown = set(chosen) - set(STEPS)
        if unknown:
            parser.error(f"unknown steps {sorted(unknown)}; choose from {STEPS}")
        sets = [s for s in args.sets.split(",") if s]
        if set(sets) - set(EVALS):
            parser.error(
                f"unknown sets {sorted(set(sets) - set(EVALS))}; choose from {list(EVALS)}"
            )
        command = " ".join(["python -m bench.quantize", *sys.argv[1:]])

        def save(step: str, result: dict[str, Any], stamp: dict[str, Any]) -> None:
            results["steps"][step] = {**stamp, **result, "load_after": _load()}
            results["machine"] = machine()
            results_file.parent.mkdir(parents=True, exist_ok=True)
            results_file.write_text(json.dumps(results, indent=1))

        for step in (s for s in STEPS if s in chosen):
            stamp = {"command": command, "started": time.strftime("%Y-%m-%d %H:%M")}
            stamp.update(load_before=_load(), machine=host.tag())
            run = {
                "files": lambda: make_files(args.fresh),
                "speed": lambda: speed(args.rounds),
                "avx2": lambda: avx2(args.avx2_sample),
                "retrieval": lambda: retrieval(
                    sets,
                    results["steps"].get("retrieval"),
                    lambda partial: save("retrieval", partial, stamp),  # noqa: B023
                ),
            }
            save(step, run[step](), stamp)
    for path in args.cosine_from:
        results.setdefault("cosine_evidence", {}).update(cosine_evidence(path))
    results["verdict"] = verdict(results["steps"], results.get("cosine_evidence"))
    results_file.write_text(json.dumps(results, indent=1))
    if not args.no_doc:
        write_doc(render(results))
    print(json.dumps(results["verdict"], indent=1))


if __name__ == "__main__":
    main()
