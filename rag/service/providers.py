"""The answer providers an interface offers, read from the one registry in :mod:`rag.llm.registry`.

:func:`provider_choices` is what the page's answer-mode menu shows: the providers
usable on this machine plus the configured one (asking explains why it does not work),
each with its label, and whether it needs a model name. :func:`llm_help` is the CLI's
``--llm`` help, from the same registry.

It builds no model (:meth:`rag.service.Assistant.llm` does, on first use).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.errors import RagError
from rag.llm.registry import (
    LLMSpec,
    Provider,
    available_specs,
    parse_spec,
    provider_named,
    spec_forms,
)

__all__ = ["Provider", "ProviderChoices", "llm_help", "provider_choices"]


@dataclass(frozen=True)
class ProviderChoices:
    """What an answer-mode menu offers.

    ``providers``: usable here, in registry order, then the configured one if it is not;
    ``provider`` and ``model``: the configured choice (``model`` '' when none);
    ``problem``: why the configured ``RAG_LLM`` could not be read (then the
    extractive mode is the choice).
    """

    providers: tuple[Provider, ...]
    provider: str
    model: str = ""
    problem: RagError | None = None

    @property
    def names(self) -> list[str]:
        """The providers' ``RAG_LLM`` names, in menu order."""
        return [p.name for p in self.providers]

    def label(self, name: str) -> str:
        """The label people see for the provider *name*."""
        return provider_named(name).label

    def model_example(self, name: str) -> str:
        """An example model name when *name* needs one, else ''."""
        return provider_named(name).model_example


def provider_choices(settings: Settings) -> ProviderChoices:
    """The menu for *settings*: usable providers, and the configured one selected."""
    problem = None
    try:
        configured = parse_spec(settings.llm.provider)
    except RagError as exc:  # a bad RAG_LLM: say so, offer what works
        problem, configured = exc, LLMSpec("extractive")
    # A configured provider that is not usable here stays listed: asking explains why.
    names = dict.fromkeys([*available_specs(settings), configured.provider])
    providers = tuple(provider_named(name) for name in names)
    return ProviderChoices(providers, configured.provider, configured.model, problem)


def llm_help() -> str:
    """The CLI's ``--llm`` help: every accepted form, the default first."""
    return f"answer provider (default: RAG_LLM, else extractive): {spec_forms()}"
