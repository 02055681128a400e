"""Alembic's entry point for the conversation tables (run by Alembic, never imported).

The program runs it through :func:`rag.conversations.db.upgrade`, which hands over the
open connection (``config.attributes["connection"]``) so the migration is part of the
transaction that opens the store. A developer writing a new revision runs the
``alembic`` command instead (see README.md in this folder); then the database is the
``-x url=...`` argument, else ``RAG_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from rag.conversations.db import Base

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


shared = config.attributes.get("connection")
if shared is not None:
    _run(shared)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ["RAG_DATABASE_URL"]
    with create_engine(url).connect() as own:
        _run(own)
