"""Fixtures of the integration tests that need a server of their own (PostgreSQL)."""

from tests.integration.pg import database_url, postgres_server  # noqa: F401 - fixtures
