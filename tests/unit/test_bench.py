"""The benchmark runs from a clean checkout and names the machine next to its figures.

The quick benchmark's smallest step (the seed article: our ingest and the tutorial
pipeline's, side by side, then their queries) runs end to end into a temporary
cache, results folder and report. No timing is asserted: only that every figure
exists and carries the CPU it was measured on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench import machine
from tests.conftest import ROOT

AMD_AVX2 = (
    "processor\t: 0\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n"
    "flags\t\t: fpu sse sse2 avx avx2 fma bmi2\n"
)
INTEL_AMX = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\n"
    "flags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile\n"
)


def test_machine_names_cpu_and_vector_units() -> None:
    assert machine.cpu_model(AMD_AVX2) == "AMD EPYC 7B13 64-Core Processor"
    assert machine.isa(AMD_AVX2) == ["AVX2"]
    assert machine.tag(AMD_AVX2) == "amd-avx2"
    assert machine.isa(INTEL_AMX) == ["AVX2", "AVX512", "AVX512-VNNI", "AVX512-BF16", "AMX"]
    assert machine.tag(INTEL_AMX) == "intel-amx"
    assert machine.isa("model name : something old\nflags : fpu sse2\n") == []
    assert machine.tag("model name : something old\nflags : fpu sse2\n") == "cpu-baseline"


def test_masked_figures_are_labelled_and_kept_apart() -> None:
    info = machine.describe(masked=True)
    assert info["tag"] == f"{machine.tag()}-as-avx2"
    assert info["isa"].startswith("AVX2 (CPUID masked; the CPU has")


def test_machines_without_cpuid_faulting_are_told_why() -> None:
    from bench import avx2only

    info = "model name : AMD EPYC 7B13\nflags : fpu avx avx2 fma\n"
    assert "cpuid_fault" in (avx2only.why_unavailable(info) or "")
    assert (
        avx2only.why_unavailable("flags : fpu cpuid_fault sse2\n") == "this CPU has no AVX2 to run"
    )


def _bench(tmp, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(BENCH_CACHE=str(tmp / "cache"), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "bench.run", "--results", str(tmp / "results")]
    cmd += ["--out", str(tmp / "BENCHMARKS.md"), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_unknown_size_is_refused_with_the_choices(tmp_path) -> None:
    out = _bench(tmp_path, "--sizes", "5k")
    assert out.returncode == 2
    assert "unknown size 5k" in out.stderr and "article, 200, 1k, 20k" in out.stderr


@pytest.mark.integration
def test_smallest_quick_step_runs_end_to_end_and_reports_the_cpu(tmp_path) -> None:
    steps = "ingest-ours,ingest-baseline,query-ours,query-baseline"
    out = _bench(tmp_path, "--sizes", "article", "--steps", steps, "--queries", "3", "--no-app")
    assert out.returncode == 0, out.stderr[-3000:]
    folder = tmp_path / "results" / machine.tag()
    ours = json.loads((folder / "article-ingest-ours.json").read_text())
    base = json.loads((folder / "article-ingest-baseline.json").read_text())
    assert ours["chunks"] > 0 and ours["embedded"] == ours["chunks"] and ours["seconds"] > 0
    assert base["chunks"] > 0 and base["documents"] == 1
    assert ours["machine"]["cpu"] == machine.cpu_model()
    assert ours["command"].startswith("python -m bench.run")
    query = json.loads((folder / "article-query-ours.json").read_text())
    assert len(query["answer_ms"]) == 3 and query["chunks"] == ours["chunks"]
    assert (tmp_path / "cache" / "stores" / "ours-article.progress").exists()
    report = (tmp_path / "BENCHMARKS.md").read_text()
    assert f"| article (1 doc) | {machine.tag()} | ours" in report
    assert f"| article (1 doc) | {machine.tag()} | baseline" in report
    assert machine.cpu_model() in report and machine.describe()["isa"] in report
    assert "| 1,000 docs | | not measured" in report


def test_a_measured_process_reports_its_own_peak_memory_not_its_parents() -> None:
    """Linux carries a parent's peak RSS into a child's ru_maxrss; figures must not."""
    from bench import run

    ballast = bytearray(600 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page: RSS >= 600 MB
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds, cold_peak = run._timed_process([sys.executable, "-c", "pass"], env)
    code = "from bench.run import _peak_rss_mb; print(_peak_rss_mb())"
    worker = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    del ballast
    assert seconds > 0
    assert 1 < cold_peak < 300  # a bare interpreter, not this 600+ MB test process
    assert 1 < float(worker.stdout) < 300


def test_a_cached_step_is_reused_only_on_the_machine_that_measured_it(tmp_path) -> None:
    """Another machine of the same kind must measure for itself, not get our figures."""
    import argparse

    from bench import run

    args = argparse.Namespace(results=tmp_path, fresh=False, as_avx2=False, command="test")
    calls: list[int] = []

    def make() -> dict:
        calls.append(1)
        return {"seconds": float(len(calls))}

    first = run._cached(args, "article-ingest-ours", make)
    again = run._cached(args, "article-ingest-ours", make)
    assert len(calls) == 1 and again == first and first["host"] == machine.host_id()
    path = tmp_path / machine.tag() / "article-ingest-ours.json"
    path.write_text(json.dumps({**first, "host": "another-box"}))
    assert run._cached(args, "article-ingest-ours", make)["seconds"] == 2.0
    args.fresh = True
    assert run._cached(args, "article-ingest-ours", make)["seconds"] == 3.0


def test_without_chromium_the_app_step_is_skipped_up_front(tmp_path, monkeypatch, capsys) -> None:
    """Not a traceback after minutes of measuring: skipped with the install command."""
    import argparse

    from bench import loopback, run

    monkeypatch.setattr(loopback, "CHROMIUM", tmp_path / "no-chromium")
    parser = argparse.ArgumentParser()
    args = argparse.Namespace(no_app=False, as_avx2=False, report_only=False, steps="all")
    run._browser_or_skip(parser, args)
    assert args.no_app is True
    assert "apt-get install chromium" in capsys.readouterr().err
    args = argparse.Namespace(no_app=False, as_avx2=False, report_only=False, steps="app")
    with pytest.raises(SystemExit):
        run._browser_or_skip(parser, args)
    assert "needs Chromium" in capsys.readouterr().err


def _quantize_steps(deltas: dict[str, float], p1: float = 0.985) -> dict[str, object]:
    """A quantize results file: int8 cosine p1 *p1*, every set moved by *deltas* (else 0)."""
    from bench import quantize

    zero = {m: 0.0 for m in quantize.RETRIEVAL}
    sets = {name: {"delta": {**zero, **deltas}} for name in quantize.EVALS}
    return {
        "speed": {"configs": {"int8": {"cosine": {"p1": p1}}}},
        "retrieval": {"sets": sets},
    }


def test_the_int8_verdict_is_one_sided_a_gain_passes_a_drop_over_a_point_fails() -> None:
    from bench.quantize import verdict

    assert verdict(_quantize_steps({"hit@1": 0.0175}))["int8_for_auto"] is True  # a gain
    assert verdict(_quantize_steps({"recall@k": -0.01}))["int8_for_auto"] is True
    dropped = verdict(_quantize_steps({"hit@3": -0.0125}))
    assert dropped["int8_for_auto"] is False
    assert dropped["worst"]["squadshifts-dev"] == {"metric": "hit@3", "delta": -0.0125}
    assert verdict(_quantize_steps({}, p1=0.979))["int8_for_auto"] is False


def test_the_int8_verdict_needs_every_eval_set_and_a_cosine() -> None:
    from bench.quantize import verdict

    steps = _quantize_steps({})
    del steps["retrieval"]["sets"]["tydi-dev"]  # type: ignore[index]
    assert verdict(steps)["missing"] == ["tydi-dev"]
    assert verdict(steps)["int8_for_auto"] is False
    retrieval_only = {"retrieval": _quantize_steps({})["retrieval"]}
    assert verdict(retrieval_only)["int8_for_auto"] is False
    evidence = {"bench.levers on an AVX2-only EPYC": 0.9812}
    assert verdict(retrieval_only, evidence)["int8_for_auto"] is True


def test_a_set_without_unanswerable_questions_gets_no_refusal_delta() -> None:
    from bench.quantize import _delta

    fp32 = {"hit@1": 0.8251, "refusal_accuracy": None}  # TyDi dev: every question answerable
    int8 = {"hit@1": 0.8223, "refusal_accuracy": None}
    assert _delta(fp32, int8) == {"hit@1": -0.0028, "refusal_accuracy": None}
