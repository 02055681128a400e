"""Benchmarks: our pipeline side by side with the usual LangChain tutorial pipeline.

``python -m bench.run`` measures, at three corpus sizes (the seed article; 1,000
and 20,000 documents of real text built by :mod:`bench.corpus`):

* ingest: wall time, chunks/s, documents/s, peak RSS (each pipeline in its own
  process, from a fresh store);
* query latency p50/p95: retrieval alone, and (ours) the full extractive answer;
* cold start: ``python -m rag ask`` from process start to the printed answer, and
  the same for a tutorial script; app start to the first answer in a real browser
  (``streamlit run app.py`` + Chromium through playwright) with the server's RSS.

The baseline is ``RecursiveCharacterTextSplitter`` (600 characters, 100 overlap,
sized like our chunks) + ``HuggingFaceEmbeddings`` (the same bundled MiniLM) +
``Chroma.from_documents`` + ``similarity_search``. Results are cached per step in
``.cache/bench/results/`` and rendered to ``docs/BENCHMARKS.md``.

It changes nothing in ``vectorstore/``: every store lives under ``.cache/bench/``.
It asserts nothing; it measures and writes down.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import loopback
from bench import machine as host
from bench.corpus import CACHE, ROOT, build, is_built
from rag.config import REFUSAL

STORES = CACHE / "stores"
# Results are committed, one folder per machine kind (bench.machine.tag), so the
# figures of an AMX Xeon and an AVX2-only EPYC sit side by side and never overwrite.
RESULTS = ROOT / "bench" / "results"
QUESTIONS = ROOT / "eval" / "qa_calais.jsonl"
SIZES = {"article": 1, "200": 200, "1k": 1000, "20k": 20000}
QUICK = "article,200"  # `make bench-quick`: a few minutes on 2 cores
BASELINE_CHUNK, BASELINE_OVERLAP = 600, 100


# ----- helpers ---------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def _peak_rss_mb() -> float:
    """This process's own peak RSS, MB.

    Not ``ru_maxrss``: Linux carries a parent's peak across fork and exec into it, so a
    worker spawned by a parent that built a corpus reported the parent's peak.
    """
    own = _vm_hwm_mb("self")
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vm_hwm_mb(pid: int | str) -> float | None:
    """Peak RSS (``VmHWM``) of one live process, MB; None where /proc does not say."""
    status = Path(f"/proc/{pid}/status")
    match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text()) if status.exists() else None
    return int(match.group(1)) / 1024 if match else None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _corpus(size: str) -> Path:
    if size == "article":
        return ROOT / "seeds"
    if not is_built(SIZES[size]):
        # In a child: building reads every installed package, and this process's size
        # would become the floor of every measuring child's rusage.
        cmd = [sys.executable, "-m", "bench.corpus", str(SIZES[size])]
        subprocess.run(cmd, cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)
    return build(SIZES[size])


def _files(folder: Path, limit: int | None = None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".txt", ".md"))
    return files[:limit] if limit else files


def questions(size: str, n: int) -> list[str]:
    """The eval questions for the article; sentences picked from the corpus otherwise."""
    if size == "article":
        rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
        return [row["question"] for row in rows][:n]
    rng = random.Random(7)
    files = _files(_corpus(size))
    picked: list[str] = []
    while len(picked) < n:
        text = rng.choice(files).read_text(encoding="utf-8")
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if 6 <= len(s.split()) <= 30]
        if sentences:
            words = rng.choice(sentences).split()[:12]
            picked.append("What about " + " ".join(words).strip(" .") + "?")
    return picked


def _worker(task: str, **args: Any) -> dict[str, Any]:
    """Run one measurement in a fresh Python process; its last stdout line is JSON."""
    cmd = [sys.executable, "-m", "bench.run", "--worker", task, "--args", json.dumps(args)]
    out = subprocess.run(
        cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=6 * 3600, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----- workers (each runs in its own process) ----------------------------------------
def work_ingest_ours(
    corpus: str,
    store: str,
    limit: int | None = None,
    *,
    resume: bool = False,
    backend: str = "auto",
    precision: str = "auto",
) -> dict[str, Any]:
    """Our ingest from an empty store: load, chunk, embed distinct texts, upsert, manifest.

    With *resume*, the store is kept and only unfinished documents are ingested (the
    figures then cover that part). Progress goes to ``<store>.progress`` as it runs.
    """
    started = time.perf_counter()
    from rag.config import Settings
    from rag.embeddings import describe
    from rag.service import Assistant

    settings = Settings(
        _env_file=None,
        store={"store_dir": Path(store), "seeds_dir": Path(corpus)},
        embedding={"backend": backend, "precision": precision},
    )
    paths = _files(Path(corpus), limit) if limit else [Path(corpus)]
    assistant = Assistant(settings)
    log_file = Path(f"{store}.progress").open("a")  # noqa: SIM115 - closed below

    def note(done: int, total: int) -> None:
        log_file.write(f"{time.time():.1f} {time.perf_counter() - started:.1f} {done} {total}\n")
        log_file.flush()

    report = assistant.ingest(paths, reset=not resume, progress=note)
    log_file.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "resumed": resume,
        "documents": report.documents,
        "added": report.added,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "peak_rss_mb": _peak_rss_mb(),
        **describe(assistant.embeddings),
    }


def _baseline_embeddings() -> Any:
    from langchain_huggingface import HuggingFaceEmbeddings

    from rag.embeddings import bundled_model_path

    return HuggingFaceEmbeddings(model_name=str(bundled_model_path()))


def work_ingest_baseline(corpus: str, store: str, limit: int | None = None) -> dict[str, Any]:
    """The tutorial pipeline: split, HuggingFaceEmbeddings, Chroma.from_documents."""
    import shutil

    started = time.perf_counter()
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    shutil.rmtree(store, ignore_errors=True)
    files = _files(Path(corpus), limit)
    docs = [Document(p.read_text(encoding="utf-8"), metadata={"source": str(p)}) for p in files]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=BASELINE_CHUNK, chunk_overlap=BASELINE_OVERLAP
    )
    chunks = splitter.split_documents(docs)
    Chroma.from_documents(
        chunks, _baseline_embeddings(), persist_directory=store, collection_name="baseline"
    )
    return {
        "seconds": time.perf_counter() - started,
        "documents": len(docs),
        "chunks": len(chunks),
        "embedded": len(chunks),
        "peak_rss_mb": _peak_rss_mb(),
    }


def work_query_ours(store: str, questions: list[str]) -> dict[str, Any]:
    """Retrieval alone and full extractive answers, after one warm-up question."""
    from rag.config import Settings
    from rag.service import Assistant

    settings = Settings(_env_file=None, store={"store_dir": Path(store)})
    assistant = Assistant(settings)
    started = time.perf_counter()
    assistant.ask(questions[0])  # loads the model, opens the store, builds/loads BM25
    first = time.perf_counter() - started
    retrieval, answer = [], []
    for question in questions:
        t0 = time.perf_counter()
        assistant.retriever.search(question, settings.retrieval.k)
        retrieval.append((time.perf_counter() - t0) * 1000)
    for question in questions:
        t0 = time.perf_counter()
        assistant.ask(question + " ")  # a new string: the query-vector cache does not hit
        answer.append((time.perf_counter() - t0) * 1000)
    return {
        "documents": len(assistant.store.manifest()),
        "chunks": assistant.store.count_chunks(),
        "first_question_s": first,
        "retrieval_ms": retrieval,
        "answer_ms": answer,
        "peak_rss_mb": _peak_rss_mb(),
    }


def work_query_baseline(store: str, questions: list[str]) -> dict[str, Any]:
    """``similarity_search`` on the tutorial store (the tutorial has no answer step)."""
    from langchain_chroma import Chroma

    started = time.perf_counter()
    db = Chroma(
        collection_name="baseline",
        embedding_function=_baseline_embeddings(),
        persist_directory=store,
    )
    db.similarity_search(questions[0], k=4)
    first = time.perf_counter() - started
    retrieval = []
    for question in questions:
        t0 = time.perf_counter()
        db.similarity_search(question + " ", k=4)
        retrieval.append((time.perf_counter() - t0) * 1000)
    return {"first_question_s": first, "retrieval_ms": retrieval, "peak_rss_mb": _peak_rss_mb()}


BASELINE_ASK = """
import sys
from langchain_chroma import Chroma
from langchain_huggingface import HuggingFaceEmbeddings
from rag.embeddings import bundled_model_path
db = Chroma(collection_name="baseline", persist_directory=sys.argv[1],
            embedding_function=HuggingFaceEmbeddings(model_name=str(bundled_model_path())))
print(db.similarity_search(sys.argv[2], k=4)[0].page_content[:200])
"""


# Runs the command from a small process, so that its rusage peak is its own: Linux
# carries the spawning process's peak RSS into the child's ru_maxrss.
LAUNCH = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
print(seconds, os.waitstatus_to_exitcode(status), usage.ru_maxrss, flush=True)
"""


def _timed_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from spawn to exit, and the process's peak RSS (MB)."""
    import tempfile

    with tempfile.TemporaryFile() as err:
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCH, *cmd]
        done = subprocess.run(
            launcher, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, check=False
        )
        fields = done.stdout.split()
        if done.returncode != 0 or len(fields) != 3 or fields[1] != b"0":
            err.seek(0)
            raise RuntimeError(f"{cmd[:4]} failed: {err.read().decode()[-2000:]}")
    return float(fields[0]), int(fields[2]) / 1024


def cold_start_ask(store: str, question: str, runs: int = 3) -> dict[str, Any]:
    """``python -m rag ask`` wall times (process start to answer printed), peak RSS."""
    env = _env(RAG_STORE_DIR=store)
    cmd = [sys.executable, "-m", "rag", "ask", question, "--json"]
    runs_ = [_timed_process(cmd, env) for _ in range(runs)]
    return {"seconds": [s for s, _ in runs_], "peak_rss_mb": max(m for _, m in runs_)}


def cold_start_baseline(store: str, question: str, runs: int = 3) -> dict[str, Any]:
    """The tutorial's equivalent: import, load the model, open Chroma, search."""
    cmd = [sys.executable, "-c", BASELINE_ASK, store, question]
    runs_ = [_timed_process(cmd, _env()) for _ in range(runs)]
    return {"seconds": [s for s, _ in runs_], "peak_rss_mb": max(m for _, m in runs_)}


# ----- the app, in a real browser --------------------------------------------------
def _vm_peak_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a live process and its children, MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        total += _vm_hwm_mb(one) or 0.0
    return total


def app_first_answer(
    store: str, question: str, expect: str | None, wait_s: int = 180
) -> dict[str, Any]:
    """``streamlit run app.py`` to the first answer shown in Chromium; server RSS."""
    from playwright.sync_api import sync_playwright

    port = loopback.free_port()
    env = _env(RAG_STORE_DIR=store)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    started = time.perf_counter()
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    result: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = loopback.launch_chromium(pw)
            page = browser.new_page()
            deadline = time.monotonic() + 300
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            box = page.locator("textarea[data-testid='stChatInputTextArea']")
            try:
                box.wait_for(timeout=wait_s * 1000)
            except Exception as exc:  # noqa: BLE001 - recorded in the results, not fatal
                result["error"] = f"no chat input after {wait_s} s ({type(exc).__name__})"
                result["server_peak_rss_mb"] = _vm_peak_mb(server.pid)
                browser.close()
                return result
            result["ready_s"] = time.perf_counter() - started
            box.fill(question)
            box.press("Enter")
            shown = re.compile(re.escape(expect) if expect else rf"\[1\]|{re.escape(REFUSAL)}")
            answer = page.locator("[data-testid='stChatMessage']").filter(has_text=shown)
            answer.first.wait_for(timeout=wait_s * 1000)
            result["first_answer_s"] = time.perf_counter() - started
            result["server_peak_rss_mb"] = _vm_peak_mb(server.pid)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return result


WORKERS = {
    "ingest_ours": work_ingest_ours,
    "ingest_baseline": work_ingest_baseline,
    "query_ours": work_query_ours,
    "query_baseline": work_query_baseline,
}


# ----- orchestration ---------------------------------------------------------------
def _cached(args: argparse.Namespace, name: str, make: Any) -> dict[str, Any]:
    """One step's result: from disk, or measured now and written with its machine."""
    results, fresh = args.results, args.fresh
    info, here = host.describe(masked=args.as_avx2), host.host_id()
    path = results / info["tag"] / f"{name}.json"
    if path.exists() and not fresh:
        cached = json.loads(path.read_text())
        if cached.get("host") == here:
            print(f"  {name}: measured here before (--fresh re-measures)", file=sys.stderr)
            return cached
        print(f"  {name}: the figures on file are not this machine's: measuring", file=sys.stderr)
    load = os.getloadavg()[0]
    result = make()
    result["load_before"] = round(load, 2)
    result["load_after"] = round(os.getloadavg()[0], 2)
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["machine"] = info
    result["host"] = here
    result["command"] = args.command
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(f"  {name}: done", file=sys.stderr, flush=True)
    return result


def run_size(size: str, args: argparse.Namespace) -> None:
    """Every measurement for one corpus size (skipping steps this machine measured)."""
    corpus = str(_corpus(size))
    ours, base = str(STORES / f"ours-{size}"), str(STORES / f"baseline-{size}")
    qs = questions(size, args.queries)
    limit = args.baseline_max_docs if size == "20k" else None
    steps = set(args.steps.split(","))
    STORES.mkdir(parents=True, exist_ok=True)  # the ingest workers write <store>.progress here
    print(f"{size}: corpus {corpus}", file=sys.stderr, flush=True)

    def step(name: str, make: Any) -> None:
        if name in steps or "all" in steps:
            _cached(args, f"{size}-{name}", make)

    step(
        "ingest-ours",
        lambda: _worker("ingest_ours", corpus=corpus, store=ours, resume=args.resume),
    )
    step(
        "ingest-ours-fp32",
        lambda: _worker(
            "ingest_ours", corpus=corpus, store=f"{ours}-fp32", precision="fp32", limit=limit
        ),
    )
    step(
        "ingest-ours-int8",
        lambda: _worker(
            "ingest_ours", corpus=corpus, store=f"{ours}-int8", precision="int8", limit=limit
        ),
    )
    step(
        "ingest-baseline",
        lambda: _worker("ingest_baseline", corpus=corpus, store=base, limit=limit),
    )
    step("query-ours", lambda: _worker("query_ours", store=ours, questions=qs))
    step("query-baseline", lambda: _worker("query_baseline", store=base, questions=qs))
    step("cold-ours", lambda: cold_start_ask(ours, qs[0]))
    step("cold-baseline", lambda: cold_start_baseline(base, qs[0]))
    if not args.no_app and not args.as_avx2:  # the browser is not run under the mask
        expect = "22 million" if size == "article" else None
        q = "How much has the UK pledged towards security?" if size == "article" else qs[0]
        step("app", lambda: app_first_answer(ours, q, expect))


def _browser_or_skip(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Without Chromium the app step is skipped up front (or refused when asked for alone)."""
    wanted = not (args.no_app or args.as_avx2 or args.report_only)
    if not wanted or loopback.CHROMIUM.exists():
        return
    hint = f"the app step needs Chromium at {loopback.CHROMIUM} (Debian: apt-get install chromium)"
    steps = set(args.steps.split(","))
    if steps == {"app"}:
        parser.error(hint)
    if steps & {"all", "app"}:
        print(f"{hint}: skipping it (--no-app says so)", file=sys.stderr, flush=True)
    args.no_app = True


def _mask_children(parser: argparse.ArgumentParser) -> None:
    """From now on every measuring child process sees AVX2 only (this one is unchanged)."""
    from bench import avx2only

    try:
        lib = avx2only.library(CACHE)
    except avx2only.MaskUnavailableError as exc:
        parser.error(str(exc))
    os.environ.update(avx2only.environment(lib))
    print(f"child processes run with {avx2only.LABEL}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the selected sizes, then write docs/BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description="Benchmarks against the LangChain tutorial.")
    parser.add_argument(
        "--sizes", default="article,1k,20k", help="comma list of article,200,1k,20k"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"the quick sizes ({QUICK}): a few minutes"
    )
    parser.add_argument("--queries", type=int, default=30, help="questions per size")
    parser.add_argument(
        "--baseline-max-docs",
        type=int,
        default=None,
        help="at 20k, ingest only the first N documents with the baseline (time budget)",
    )
    parser.add_argument("--fresh", action="store_true", help="re-measure cached steps")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted ingest-ours step"
    )
    parser.add_argument(
        "--steps",
        default="all",
        help="comma list of ingest-ours, ingest-ours-fp32, ingest-ours-int8, ingest-baseline, "
        "query-ours, query-baseline, cold-ours, cold-baseline, app (default: all)",
    )
    parser.add_argument("--no-app", action="store_true", help="skip the browser measurement")
    parser.add_argument(
        "--as-avx2",
        action="store_true",
        help="measure as if this CPU had AVX2 only (CPUID masked: bench/avx2only.c; "
        "needs the cpuid_fault flag and gcc); results go to <machine>-as-avx2",
    )
    parser.add_argument("--report-only", action="store_true", help="only render the results")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="results folder (one subfolder per CPU)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--args", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.args))))
        return 0
    args.command = " ".join(["python -m bench.run", *(sys.argv[1:] if argv is None else argv)])
    sizes = QUICK if args.quick else args.sizes
    unknown = sorted(set(sizes.split(",")) - set(SIZES))
    if unknown:
        parser.error(f"unknown size {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    _browser_or_skip(parser, args)
    if args.as_avx2 and not args.report_only:
        _mask_children(parser)
    if not args.report_only:
        for size in sizes.split(","):
            run_size(size.strip(), args)
    from bench.report import write_report

    write_report(args.out, args.results)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def median(values: list[float]) -> float:
    """Median (re-exported for the report)."""
    return statistics.median(values)


if __name__ == "__main__":
    sys.exit(main())
