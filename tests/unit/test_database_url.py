"""RAG_DATABASE_URL: what is accepted, how it is normalised, and that it stays secret."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.errors import SettingsError
from rag.settings_errors import load_settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://ann:pw@db:5432/rag", "postgresql+psycopg://ann:pw@db:5432/rag"),
        ("postgresql://ann@db/rag", "postgresql+psycopg://ann@db/rag"),
        ("postgresql+psycopg://ann:p%40ss@db/rag", "postgresql+psycopg://ann:p%40ss@db/rag"),
        ("sqlite:////srv/history.sqlite3", "sqlite:////srv/history.sqlite3"),
    ],
)
def test_database_urls_are_read_for_the_installed_driver(given: str, used: str) -> None:
    url = Settings(_env_file=None, store={"database_url": given}).store.database_url
    assert url is not None and url.get_secret_value() == used


def test_an_empty_database_url_means_none() -> None:
    assert Settings(_env_file=None, store={"database_url": "  "}).store.database_url is None


@pytest.mark.parametrize(
    "bad", ["mysql://ann:hunter2@db/rag", "postgresql+psycopg2://ann:hunter2@db/rag", "db:5432"]
)
def test_an_unusable_database_url_is_refused_without_showing_it(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_DATABASE_URL", bad)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    [line] = caught.value.lines()
    assert line.startswith("RAG_DATABASE_URL=(hidden) is not allowed")
    assert "postgresql+psycopg://user:password@host:5432/rag" in line
    assert "hunter2" not in line


def test_the_password_never_shows_in_the_settings_dump() -> None:
    settings = Settings(_env_file=None, store={"database_url": "postgresql://ann:hunter2@db/rag"})
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
