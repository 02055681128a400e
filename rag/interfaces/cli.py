"""Command line: ``python -m rag ingest|ask|chat|docs|remove``.

Parses arguments, calls the service (:class:`rag.service.Assistant` and the provider
list, settings and bounds :mod:`rag.service` gives), and writes either
human-readable text (:mod:`rag.interfaces.terminal`) or one JSON object to stdout (progress
goes to stderr).
Expected problems (:class:`rag.errors.RagError`: bad settings, one line per variable;
a Chroma server that cannot be reached or goes away) become ``error: ...`` lines on
stderr and exit code 2; there is no traceback for them unless ``--debug`` asks for it.
Output cut short by its reader (``ask ... | head -1``) ends quietly with exit code
141, as a program killed by SIGPIPE would.

Everything printed for a person that comes from a document or a file name goes
through :func:`rag.interfaces.terminal.terminal_safe` (no escape sequence from a document
reaches the terminal); ``--json`` output keeps the exact text, escaped by JSON.

It holds no retrieval or answering logic of its own, and imports from ``rag`` only the
service, the answer types, the errors and :mod:`rag.interfaces.terminal`
(``tests/unit/test_import_rule.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rag.errors import RagError
from rag.interfaces.terminal import ingest_summary, stream_answer, terminal_safe
from rag.service import k_bounds, llm_help

if TYPE_CHECKING:
    from rag.answer import Answer
    from rag.service import Assistant

log = logging.getLogger(__name__)

EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program killed by SIGPIPE
REMOVE_HELP = (
    "remove a document: its passages and, if it was uploaded, its file. NAME is its path, "
    "file name or title (see `docs`). Files anywhere else (seeds/, paths given to ingest) "
    "stay on disk, so ingesting them again brings the document back: a plain `ingest` "
    "(and `make run`) re-adds a removed seed."
)
K_HELP = "passages to retrieve (default: RAG_K)"
DEBUG_HELP = "show the traceback of an error instead of its one line"
# JSON leaves DEL and the C1 controls raw (ensure_ascii=False); some terminals act on them.
_JSON_RAW_CONTROLS = re.compile(r"[\x7f-\x9f]")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rag", description="Answer questions from your documents, with citations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="add or update documents in the store")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: seeds/)")
    ingest.add_argument(
        "--reset",
        action="store_true",
        help="rebuild the store from scratch (an embedded store's old files are kept in a backup "
        "folder; a reset that would lose documents is refused)",
    )
    ingest.add_argument("--json", action="store_true", help="print one JSON object")
    ingest.add_argument(
        "--ray",
        type=_ray_address,
        default=None,
        metavar="ADDRESS",
        help="load, chunk and embed on a Ray cluster (default: RAG_RAY_ADDRESS): auto, "
        "host:port, ray://host:port, or local for a private cluster; needs requirements-scale.txt",
    )
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--k", type=passage_count, default=None, help=K_HELP)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--llm", default=None, metavar="SPEC", help=llm_help())
    chat = sub.add_parser("chat", help="a conversation in the terminal (follow-ups work)")
    chat.add_argument("--k", type=passage_count, default=None, help=K_HELP)
    chat.add_argument("--llm", default=None, metavar="SPEC", help=llm_help())
    docs = sub.add_parser("docs", help="list the documents in the store")
    docs.add_argument("--json", action="store_true", help="print one JSON object")
    remove = sub.add_parser("remove", help="remove a document", description=REMOVE_HELP)
    remove.add_argument("name", metavar="NAME", help="path, file name or title of the document")
    remove.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def passage_count(text: str) -> int:
    """argparse type of ``--k``: a whole number within the bounds of ``retrieval.k``."""
    low, high = k_bounds()  # the bounds of retrieval.k: the CLI and the settings agree
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of passages from {low} to {high}, not {text!r}"
        )
    return value


def _ray_address(text: str) -> str | None:
    """argparse type of ``--ray``: an address :func:`rag.config.ray_address` accepts."""
    from rag.service import ray_address

    try:
        return ray_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, not {text!r}") from None


def _assistant(llm: str | None = None) -> Assistant:
    from rag.service import Assistant, load_settings

    settings = load_settings()
    if llm:
        settings = settings.updated(llm={"provider": llm})
    assistant = Assistant(settings)
    assistant.check_provider()  # a missing package or a bad --llm fails here, not at a question
    return assistant


def say(line: str, out: TextIO | None = None) -> None:
    """Print one line for a person (stdout by default), made safe for a terminal."""
    print(terminal_safe(line, one_line=True), file=out or sys.stdout)


def json_line(value: Any) -> str:
    """*value* as one line of JSON, every string exact and every control character escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _progress_bar() -> tuple[Any, Any, Any]:
    """A chunk bar with rate and ETA on stderr, the document count as its postfix."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit="chunk", desc="ingesting", file=sys.stderr, disable=None)

    def chunks(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)  # update(), not n=: tqdm's rate and ETA come from it

    def documents(done: int, total: int) -> None:
        bar.set_postfix_str(f"{done}/{total} documents")

    return bar, chunks, documents


def cmd_ingest(args: argparse.Namespace) -> int:
    """``ingest``: prints counts; exit 1 when some file could not be ingested."""
    assistant = _assistant()
    address = args.ray or assistant.settings.ray.address
    bar, chunks, documents = _progress_bar()
    try:
        if address:
            report = assistant.ingest_on_ray(
                args.paths or None, address, args.reset, progress=chunks, documents=documents
            )
        else:
            report = assistant.ingest(
                args.paths or None, reset=args.reset, progress=chunks, documents=documents
            )
    finally:
        bar.close()
    if args.json:
        print(json_line(report.to_dict()))
    else:
        print(ingest_summary(report))
    for name in report.missing:
        say(f"not rebuilt, no longer on disk: {name}", sys.stderr)
    if report.old_store:
        kept = f"the old store is kept in {report.old_store}; delete it when no longer needed"
        say(kept, sys.stderr)
    for warning in report.warnings:
        say(f"warning: {warning}", sys.stderr)
    for error in report.errors:
        say(f"skipped {error['source']}: {error['error']}", sys.stderr)
    return 1 if report.errors else 0


def cmd_ask(args: argparse.Namespace) -> int:
    """``ask``: one question, text (streamed) or JSON."""
    assistant = _assistant(args.llm)
    if args.json:
        answer = assistant.ask(args.question, k=args.k)
        print(json_line(answer.to_dict()))
    else:
        stream_answer(assistant.ask_stream(args.question, k=args.k), sys.stdout)
    return 0


def cmd_chat(args: argparse.Namespace, stdin: TextIO = sys.stdin) -> int:
    """``chat``: read questions until EOF or 'exit'; earlier turns resolve follow-ups."""
    from rag.service import turns_of

    assistant = _assistant(args.llm)
    answers: list[Answer] = []
    assistant.require_documents()
    print("Ask about your documents (empty line or 'exit' to quit).", file=sys.stderr)
    while True:
        print("> ", end="", file=sys.stderr, flush=True)
        line = stdin.readline()
        if not line or line.strip().lower() in ("", "exit", "quit"):
            return 0
        try:
            answer = stream_answer(
                assistant.ask_stream(line, history=turns_of(answers), k=args.k), sys.stdout
            )
        except RagError as exc:
            say(str(exc), sys.stderr)
            continue
        sys.stdout.flush()
        answers.append(answer)


def cmd_docs(args: argparse.Namespace) -> int:
    """``docs``: what is in the store, by display name (sources too with ``--json``)."""
    entries = _assistant().documents()
    if args.json:
        print(json_line({"documents": [e.to_dict() for e in entries]}))
    for entry in [] if args.json else entries:
        files = ", ".join(dict.fromkeys(Path(name).name for name in entry.names))
        say(f"{entry.display_name}  ({files}; {entry.chunks} chunks; sha256 {entry.sha256[:12]})")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """``remove``: what was removed, and which files stay on disk (and come back)."""
    removed = _assistant().remove_document(args.name)
    if args.json:
        print(json_line(removed.to_dict()))
        return 0
    say(f"removed {removed.title!r} ({removed.source}): {removed.chunks} chunks")
    for path in removed.uploads_deleted:
        say(f"deleted the uploaded file {path}")
    for path in removed.still_on_disk:
        say(
            f"note: {path} is still on disk, so ingesting it or its folder again adds it back "
            "(a plain `python -m rag ingest`, and `make run`, ingest seeds/)"
        )
    return 0


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "docs": cmd_docs,
    "remove": cmd_remove,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    return guarded(lambda: _run(args), debug=args.debug)


def guarded(
    command: Callable[[], int], interrupted: str = "interrupted", debug: bool = False
) -> int:
    """Run *command* the way every CLI here does (``rag`` and ``rag.eval``).

    Expected problems (:class:`RagError`, and a Chroma server that cannot be reached)
    print ``error: ...`` lines (one per problem; with *debug*, the traceback instead)
    and return their exit code; Ctrl-C prints *interrupted* and returns 130; a closed
    pipe (``| head -1``) ends quietly with 141.
    """
    try:
        code = command()
        sys.stdout.flush()  # a closed pipe fails here, inside the handler, not at exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except RagError as exc:
        return _failed(exc, debug)
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    except Exception as exc:
        from rag.service import server_gone

        if (error := server_gone(exc)) is None:
            raise  # unexpected: its traceback is the report
        return _failed(error, debug)
    return code


def _failed(exc: RagError, debug: bool = False) -> int:
    """Print *exc* as ``error:`` lines (or, with *debug*, its traceback); its exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    else:
        for line in exc.lines():
            say(f"error: {line}", sys.stderr)
    return exc.exit_code


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return COMMANDS[args.command](args)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit cannot fail again.

    The reader of our output has gone (``| head -1``): what is left unwritten is not
    wanted (see "Note on SIGPIPE" in the Python ``signal`` docs).
    """
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file: nothing to flush at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)
