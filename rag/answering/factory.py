"""Which answerer answers: the provider's registry entry says, this module builds it.

``settings.llm.provider`` names a provider of :data:`rag.llm.registry.REGISTRY`; its entry's
``answerer`` is ``extractive`` (the trained reader,
:class:`~rag.answering.extractive.ExtractiveAnswerer`) or ``llm``
(:class:`~rag.answering.generate.LLMAnswerer` over the provider's chat model, falling back
on the extractive one). The chain receives the result as an
:class:`~rag.answering.protocol.Answerer` and never asks which it is.

The service calls it once: ``Assistant.answerer`` is its result and
``Assistant.extractive`` the extractive answerer passed in. This module builds no chat
model (the registry entry's ``build``, through :func:`rag.llm.registry.make_chat_model`, does)
and loads no reader weights (the extractive answerer loads them on first use).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import ProviderError
from rag.llm.registry import AnswererKind, parse_spec, provider_named

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rag.answering.extractive import ExtractiveAnswerer
    from rag.answering.protocol import Answerer
    from rag.embeddings import Encoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswererParts:
    """What an answerer may be built from (each builder takes what it needs)."""

    settings: Settings
    extractive: ExtractiveAnswerer
    encoder: Encoder
    model: BaseChatModel | None  # the chat model settings.llm.provider names; None for extractive


def _extractive(parts: AnswererParts) -> Answerer:
    return parts.extractive


def _llm(parts: AnswererParts) -> Answerer:
    from rag.answering.generate import LLMAnswerer

    if parts.model is None:
        spec = parse_spec(parts.settings.llm.provider)
        raise ProviderError(f"The {spec} answerer needs its chat model (see rag.llm.registry).")
    return LLMAnswerer(parts.model, parts.encoder, parts.settings, fallback=parts.extractive)


BUILDERS: dict[AnswererKind, Callable[[AnswererParts], Answerer]] = {
    "extractive": _extractive,
    "llm": _llm,
}


def make_answerer(
    settings: Settings,
    extractive: ExtractiveAnswerer,
    encoder: Encoder,
    model: BaseChatModel | None,
) -> Answerer:
    """The answerer ``settings.llm.provider``'s registry entry names, built from these parts."""
    provider = provider_named(parse_spec(settings.llm.provider).provider)
    log.debug("answerer: %s (%s)", provider.answerer, provider.name)
    return BUILDERS[provider.answerer](AnswererParts(settings, extractive, encoder, model))
