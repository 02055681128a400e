"""The command line and the helpers that draw answers and documents for people.

Owns ``python -m rag`` (:mod:`~rag.interfaces.cli`), how answers and ingest reports look in
a terminal (:mod:`~rag.interfaces.terminal`), and what the page and the terminal share for
showing documents: safe Markdown with one span highlighted (:mod:`~rag.interfaces.highlight`)
and a document shown as its author wrote it (:mod:`~rag.interfaces.rendering`).

Interfaces call the service only (:mod:`rag.service`; ``tests/unit/test_import_rule.py``
enforces it): nothing here retrieves, answers or stores. Streamlit stays in ``app.py``.
Nothing is imported here.
"""
