"""The use cases the CLI, the Streamlit page and the eval call: ingest, ask, list, remove.

:class:`Assistant` is the one factory-backed entry point: it builds the embedding
model, the store, the retriever and the chain once (lazily) from a
:class:`~rag.config.Settings`, and exposes plain methods: ingest (here or on a Ray
cluster), ask (whole or streamed), list, read and remove documents, save uploads, and
find example questions the documents answer. Interfaces call only this; they never
touch Chroma or the model directly.

It does not print, parse arguments or render anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings

from rag.answer import Answer, Draft
from rag.config import Settings
from rag.documents import iter_files
from rag.followup.turns import Turn, as_turns
from rag.ingest.pipeline import IngestReport, Progress, exclusive, ingest_lock, ingest_paths
from rag.ingest.uploads import delete_upload, is_upload
from rag.service.examples import answered_examples
from rag.service.uploads import SavedUploads, Upload, save_uploads
from rag.store import (
    DocumentStore,
    ManifestEntry,
    find_document,
    move_embedded_store_aside,
    stored_names,
)

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from rag.answering.extractive import ExtractiveAnswerer
    from rag.answering.protocol import Answerer
    from rag.llm.registry import LLMSpec
    from rag.retrieval.hybrid import HybridRetriever

__all__ = ["Assistant", "IngestReport", "ManifestEntry", "RemovedDocument", "load_embeddings"]

log = logging.getLogger(__name__)

History = Sequence[Turn | Answer | Mapping[str, str]]
ChainInput = dict[str, object]


@runtime_checkable
class Encodes(Protocol):
    """What the answerers need of the embedding model besides LangChain's interface."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


@dataclass(frozen=True)
class RemovedDocument:
    """What :meth:`Assistant.remove_document` removed.

    ``uploads_deleted``: the document's files that were uploads, now deleted.
    ``still_on_disk``: its other files, left alone: ingesting one of them (or its
    folder: a plain ``ingest`` covers ``seeds/``) adds the document back.
    """

    source: str
    title: str
    sha256: str
    names: tuple[str, ...]
    chunks: int
    uploads_deleted: tuple[str, ...]
    still_on_disk: tuple[str, ...]

    @property
    def upload_deleted(self) -> str | None:
        """The uploaded file deleted, or None when the document was not uploaded."""
        return self.uploads_deleted[0] if self.uploads_deleted else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {**asdict(self), "upload_deleted": self.upload_deleted}


class Assistant:
    """Everything needed to ingest and answer, built once from settings.

    Args:
        settings: The one settings object (default: ``Settings()``, read from
            ``RAG_*`` variables and ``.env``).
        embeddings: An embedding model to share (tests, the page's cached
            resource); default: the bundled MiniLM, loaded on first use.
        extractive: The extractive answerer to use (tests pass one with a fake reader);
            default: the trained reader of ``settings.answer.reader_path`` (or the bundled one).

    Nothing is opened or loaded until a property or method needs it.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from rag.config import Settings
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "ferry.txt").write_text(
        ...     "Ashwick ferry\\n\\nThe Ashwick ferry crosses the river every 20 minutes. "
        ...     "It was built in 1904 by the Marlow boatyard.\\n"
        ... )
        >>> store = {"store_dir": folder / "store", "seeds_dir": folder}
        >>> settings = Settings(_env_file=None, store=store)
        >>> assistant = Assistant(settings)
        >>> assistant.ingest().documents
        1
        >>> answer = assistant.ask("How often does the Ashwick ferry cross the river?")
        >>> "every 20 minutes" in answer.passages[0].text
        True
        >>> answer.outcome
        'answered'
        >>> answer.citations[0].short_answer in ("20 minutes", "every 20 minutes")
        True
        >>> answer.citations[0].quote
        'The Ashwick ferry crosses the river every 20 minutes.'

        A question the documents do not answer gets no answer, never a guess:

        >>> assistant.ask("What does a ferry ticket cost?").outcome in ("unsure", "not_found")
        True
    """

    def __init__(
        self,
        settings: Settings | None = None,
        embeddings: Embeddings | None = None,
        extractive: ExtractiveAnswerer | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embeddings = embeddings
        self._extractive = extractive
        self._answerer: Answerer | None = None
        self._store: DocumentStore | None = None
        self._retriever: HybridRetriever | None = None
        self._chain: Runnable[ChainInput, Answer | Draft] | None = None
        self._llm: BaseChatModel | None = None

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model (its weights load on first use)."""
        if self._embeddings is None:
            from rag.embeddings import LazyEmbeddings

            self._embeddings = LazyEmbeddings(self.settings)
        return self._embeddings

    @property
    def store(self) -> DocumentStore:
        """The Chroma-backed store (opened on first use)."""
        if self._store is None:
            self._store = DocumentStore(self.settings, self.embeddings)
        return self._store

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever over :attr:`store`."""
        if self._retriever is None:
            from rag.retrieval.hybrid import HybridRetriever

            self._retriever = HybridRetriever(
                k=self.settings.retrieval.k, settings=self.settings, store=self.store
            )
        return self._retriever

    @property
    def extractive(self) -> ExtractiveAnswerer:
        """The extractive answerer: the trained reader and the decision (loaded on first use).

        It answers in the extractive mode, and a model's answerer falls back on it.
        """
        if self._extractive is None:
            from rag.answering.extractive import ExtractiveAnswerer

            self._extractive = ExtractiveAnswerer(self.settings)
        return self._extractive

    @property
    def answerer(self) -> Answerer:
        """The answerer the chain answers with: the one the provider's registry entry names.

        The extractive answerer itself, or a model's answerer over :attr:`llm` that falls
        back on it (see :func:`rag.answering.factory.make_answerer`).
        """
        if self._answerer is None:
            from rag.answering.factory import make_answerer

            self._answerer = make_answerer(self.settings, self.extractive, self.encoder, self.llm)
        return self._answerer

    @property
    def answer_threshold(self) -> float:
        """The confidence an answer needs to be quoted: the setting, else the decision's."""
        return self.extractive.answer_threshold

    @property
    def llm(self) -> BaseChatModel | None:
        """The chat model ``settings.llm.provider`` names (None: extractive; rag.llm.registry)."""
        if self._llm is None and self.provider.generative:
            from rag.llm.registry import make_chat_model

            self._llm = make_chat_model(self.settings)
        return self._llm

    @property
    def provider(self) -> LLMSpec:
        """The provider ``settings.llm.provider`` names (ProviderError when it names none)."""
        from rag.llm.registry import parse_spec

        return parse_spec(self.settings.llm.provider)

    @property
    def generative(self) -> bool:
        """True when a language model writes the answers (its draft can be streamed).

        Read from the provider's registry entry: no model is built to answer this.
        """
        return self.provider.generative

    @property
    def chain(self) -> Runnable[ChainInput, Answer | Draft]:
        """The LCEL chain (see :func:`rag.chain.build_chain`)."""
        if self._chain is None:
            from rag.chain import build_chain

            self._chain = build_chain(self.retriever, self.settings, self.answerer)
        return self._chain

    @property
    def encoder(self) -> Encodes:
        """The embedding model as the answerers use it (LangChain's interface plus encode)."""
        model = self.embeddings
        if not isinstance(model, Encodes):
            raise TypeError(f"{type(model).__name__} has no encode(texts) for the answerers")
        return model

    def check_provider(self) -> None:
        """Build the answer model now: a missing package or a bad spec fails before a question."""
        _ = self.llm

    def require_documents(self) -> None:
        """Raise :class:`~rag.errors.StoreEmptyError` (saying how to ingest) when none exist."""
        self.store.require_documents()

    def warm_up(self) -> None:
        """Build the keyword index now (when documents exist), not on the first question."""
        if self.documents():
            self.retriever.snapshot()

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        reset: bool = False,
        progress: Progress | None = None,
        documents: Progress | None = None,
    ) -> IngestReport:
        """Ingest files/folders (default: seeds and uploads); *reset* rebuilds first.

        Args:
            paths: Files or folders of .txt/.md/.html/.pdf (default:
                ``settings.store.default_paths()``: the seeds and the uploads folder).
            reset: Rebuild the store from scratch first.
            progress: Called with (chunks done, total) as embedding goes.
            documents: Called with (documents done, total).

        Returns:
            An :class:`~rag.ingest.pipeline.IngestReport`: documents, chunks added/embedded,
            files skipped and why, names now missing.

        Raises:
            DocumentError: a path does not exist or nothing in it can be read.
            StoreLockedError: another ingest holds the store's lock.
            StoreCorruptError: the store cannot be opened (the message says how to fix it).
            ResetRefusedError: a reset of a store already open here, or of a server
                store, would lose documents whose files are gone (nothing changed).

        Unchanged documents cost nothing (content hashes); an interrupted ingest
        leaves the store as it was. A reset of an embedded store not yet opened moves
        its files into ``store_dir/reset-backup-<time>`` (``report.old_store``) before
        opening it, so it also repairs a store too damaged to open and loses nothing.
        A reset re-ingests every document the store held, from the names it was
        ingested under whose file still exists; ``report.missing`` lists the others.
        """
        targets = list(paths or self.settings.store.default_paths())
        remembered: list[str] = []
        old_store = None
        if reset and self._store is None:
            with ingest_lock(self.settings):
                list(iter_files(targets))  # an unreadable folder fails before anything moves
                remembered = self._names_before_wipe()
                old_store = move_embedded_store_aside(self.settings)
        return ingest_paths(
            self.store,
            targets,
            reset,
            progress,
            documents,
            remembered=remembered,
            old_store=old_store,
        )

    def _names_before_wipe(self) -> list[str]:
        names = stored_names(self.settings, self.embeddings)
        if names is None:
            log.warning(
                "the old store could not be read: documents ingested from outside %s "
                "are not rebuilt (its files are kept in the backup folder)",
                " and ".join(str(p) for p in self.settings.store.default_paths()),
            )
        return names or []

    def remove_document(self, name: str) -> RemovedDocument:
        """Remove one document: its chunks, its manifest entry, its uploaded file.

        *name* is a source path or any other name the document was ingested under,
        a file name, or a title (unambiguous; otherwise
        :class:`~rag.store.UnknownDocumentError` lists close matches). Runs under
        the ingest lock. Files outside the uploads folder are never deleted, so a
        removed seed comes back with the next ingest of ``seeds/``. The keyword
        index is rebuilt before returning.
        """
        store = self.store
        with exclusive(store):
            manifest = store.manifest()
            entry = find_document(manifest, name)
            deleted = [delete_upload(self.settings.store.uploads_dir, n) for n in entry.names]
            chunks = store.remove_document(entry.source, manifest)
        self.retriever.snapshot()
        uploads = tuple(n for n, path in zip(entry.names, deleted, strict=True) if path)
        return RemovedDocument(
            source=entry.source,
            title=entry.title,
            sha256=entry.sha256,
            names=entry.names,
            chunks=chunks,
            uploads_deleted=uploads,
            still_on_disk=tuple(n for n in entry.names if n not in uploads and Path(n).exists()),
        )

    def ask(self, question: str, history: History | None = None, k: int | None = None) -> Answer:
        """Answer *question* (a follow-up when *history* is given) from the documents.

        Args:
            question: The user's question (control characters are stripped).
            history: Earlier turns, oldest first: turns (:class:`~rag.followup.turns.Turn`, see
                :func:`rag.service.turns_of`), :class:`~rag.answer.Answer` objects or
                ``{"question", "answer", "standalone"}`` mappings.
            k: Passages to retrieve (default ``settings.retrieval.k``).

        Returns:
            An :class:`~rag.answer.Answer` whose ``outcome`` is ``answered`` (with
            checked citations and a confidence), ``unsure`` (closest passages, no
            sentence presented as the answer) or ``not_found`` (the refusal).

        Raises:
            QuestionError: the question is empty or too long.
            StoreEmptyError: no document has been ingested yet.
        """
        self.require_documents()
        made = self.chain.invoke({"question": question, "history": as_turns(history), "k": k})
        if not isinstance(made, Answer):  # the chain ends every question on an Answer
            raise TypeError(f"the chain ended on a {type(made).__name__}, not an Answer")
        return made

    def ask_stream(
        self, question: str, history: History | None = None, k: int | None = None
    ) -> Iterator[Answer | Draft]:
        """Like :meth:`ask`, yielding drafts (:class:`~rag.answer.Draft`), then the Answer."""
        self.require_documents()
        yield from self.chain.stream({"question": question, "history": as_turns(history), "k": k})

    def documents(self) -> list[ManifestEntry]:
        """Documents in the store (one per content, with every name), by display name.

        Read from the store's cached view: one cheap generation lookup, not a full read
        of the manifest (the page calls this on every rerun).
        """
        entries = self.store.view().manifest.values()
        return sorted(entries, key=lambda e: e.display_name.lower())

    def document_text(self, source: str) -> str:
        """Full text of an ingested document, by any of its names."""
        return self.store.document_text(source)

    def is_upload(self, source: str) -> bool:
        """Whether *source* names a file in the uploads folder (deleted with its document)."""
        return is_upload(self.settings.store.uploads_dir, source)

    def save_uploads(self, uploads: Sequence[Upload]) -> SavedUploads:
        """Check and save each upload in ``settings.store.uploads_dir`` (ingest the paths next).

        See :func:`rag.service.uploads.save_uploads`: a refused file leaves nothing behind
        and says why; a name taken by other content is kept under a free name.
        """
        return save_uploads(self.settings, uploads)

    def ingest_on_ray(
        self,
        paths: Sequence[Path] | None,
        address: str,
        reset: bool = False,
        progress: Progress | None = None,
        documents: Progress | None = None,
    ) -> IngestReport:
        """:meth:`ingest` with loading, chunking and embedding on the Ray cluster *address*.

        Raises:
            RayUnavailableError: Ray is not installed (before the store is opened).
        """
        from rag.ingest.distributed import check_ray, ingest_paths_ray

        check_ray()
        targets = list(paths or self.settings.store.default_paths())
        return ingest_paths_ray(
            self.store, targets, address, reset=reset, progress=progress, documents=documents
        )

    def example_questions(
        self, sources: Sequence[tuple[str, str]], candidates: int, wanted: int
    ) -> list[str]:
        """Up to *wanted* questions drawn from *sources* (source, name) that this answers.

        See :func:`rag.service.examples.answered_examples`: only questions answered
        Grounded are kept, from at most *candidates* drawn.
        """
        return answered_examples(self, sources, candidates, wanted)


def load_embeddings(settings: Settings) -> Embeddings:
    """The embedding model *settings* name, loaded now (the page shares one copy)."""
    from rag import embeddings

    return embeddings.load_embeddings(settings)
