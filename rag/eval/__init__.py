"""Offline evaluation of the assistant on question/answer pairs: ``python -m rag.eval``.

Modules: :mod:`~rag.eval.dataset` (load JSONL/CSV/SQuAD JSON), :mod:`~rag.eval.metrics`
(pure metric functions), :mod:`~rag.eval.scoring` (score one answer),
:mod:`~rag.eval.runner` (ask every question), :mod:`~rag.eval.summary` (aggregate with
bootstrap intervals), :mod:`~rag.eval.compare` (baseline deltas),
:mod:`~rag.eval.judge` (optional cached judge), :mod:`~rag.eval.report` and
:mod:`~rag.eval.htmlreport` (files), :mod:`~rag.eval.cli` (the command).

Importing this package loads nothing: no model, no store.
"""
