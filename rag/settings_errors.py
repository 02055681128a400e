"""Settings read for a command, with one plain sentence per bad ``RAG_`` variable.

:func:`load_settings` builds :class:`rag.config.Settings` and turns pydantic's
``ValidationError`` into :class:`rag.errors.SettingsError`: each problem names the
variable (``RAG_K``, which sets ``retrieval.k``), the value it was given and what is
allowed ("a whole number from 1 to 50"), read from the field's own type and bounds so
it never disagrees with them. A secret's value is never repeated.

This module defines no setting and no bound (see :mod:`rag.config`), and prints nothing.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo

from rag.config import Settings, setting_field, variable
from rag.errors import SettingsError


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)`` from the environment and ``.env``.

    Raises:
        SettingsError: some values are not allowed; one sentence per variable.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(setting_problems(exc)) from exc


def setting_problems(exc: ValidationError) -> list[str]:
    """One sentence per bad variable: its name, the value given, what is allowed."""
    problems: dict[tuple[str, str], str] = {}
    for error in exc.errors():
        group, name, *_ = (*(str(part) for part in error["loc"]), "", "")
        if (group, name) not in problems:  # a union can fail twice for one value: say it once
            problems[group, name] = _problem(group, name, error)
    return list(problems.values())


def _problem(group: str, name: str, error: Any) -> str:
    field = setting_field(group, name)
    env_name = variable(group, name) if name else f"RAG_{group.upper()}"
    secret = field is not None and SecretStr in _kinds(field)
    shown = "(hidden)" if secret else repr(error.get("input"))
    allowed = allowed_values(field) if field is not None else None
    if allowed:
        return f"{env_name}={shown} is not allowed; use {allowed}."
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{env_name}={shown} is not allowed: {reason}."


def allowed_values(field: FieldInfo) -> str | None:
    """What a field accepts, in words: 'a whole number from 1 to 50', 'one of a, b'."""
    kinds = _kinds(field)
    base = next((kind for kind in kinds if kind is not type(None)), None)
    if get_origin(base) is Literal:
        text = "one of " + ", ".join(str(choice) for choice in get_args(base))
    elif base is bool:
        text = "true or false"
    elif base in (int, float):
        noun = "a whole number" if base is int else "a finite number"
        text = noun + _bounds(field)
    else:
        return None
    return text + (", or leave it unset" if type(None) in kinds else "")


def _kinds(field: FieldInfo) -> tuple[Any, ...]:
    """The types a field's annotation allows (``int | None`` -> int, NoneType)."""
    annotation = field.annotation
    if get_origin(annotation) in (Union, UnionType):
        return get_args(annotation)
    return (annotation,)


def _bounds(field: FieldInfo) -> str:
    """' from 1 to 50', ' of at least 50', ' above 0', or '' for an unbounded field."""
    low = next((f"{m.ge:g}" for m in field.metadata if isinstance(m, Ge)), None)
    above = next((f"{m.gt:g}" for m in field.metadata if isinstance(m, Gt)), None)
    high = next((f"{m.le:g}" for m in field.metadata if isinstance(m, Le)), None)
    below = next((f"{m.lt:g}" for m in field.metadata if isinstance(m, Lt)), None)
    if low is not None and high is not None:
        return f" from {low} to {high}"
    lower = f"of at least {low}" if low is not None else above and f"above {above}"
    upper = f"at most {high}" if high is not None else below and f"below {below}"
    parts = [part for part in (lower, upper) if part]
    return " " + " and ".join(parts) if parts else ""
