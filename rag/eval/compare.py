"""Compare a run with a baseline ``report.json``: metric deltas, better and worse questions.

A question *improved* when every tracked change points the right way (a failing row
now passes, its F1 rose, its first relevant passage moved up...), *regressed* when
every change points the wrong way, and is *mixed* otherwise. Rows are matched by id;
rows found in only one report are listed. Settings and dataset differences are
reported, because a delta means little when the questions changed.

This module does not run anything or render reports.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.eval import metrics as m
from rag.eval.scoring import RowResult

log = logging.getLogger(__name__)

# Per-row values whose change makes a question better or worse.
TRACKED = (
    "containment",
    "f1",
    "mrr",
    "hit@3",
    "citation_precision",
    "marker_validity",
    "decision_accuracy",
)
MIN_CHANGE = 0.01


class BaselineError(RagError):
    """The baseline file is missing or is not a report.json."""


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous ``report.json`` (``summary`` and ``rows``), checked."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"Baseline {path} does not exist; pass an earlier report.json."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"Baseline {path} is not JSON ({exc}); pass a report.json.") from None
    if not (isinstance(data, dict) and "summary" in data and isinstance(data.get("rows"), list)):
        raise BaselineError(
            f"Baseline {path} has no summary/rows; pass a report.json from rag.eval."
        )
    data["path"] = str(path)
    return data


def compare(
    summary: dict[str, Any], rows: Sequence[RowResult], baseline: dict[str, Any]
) -> dict[str, Any]:
    """Deltas per metric and lists of changed questions."""
    old_rows = {r["id"]: r for r in baseline["rows"]}
    changes = [_row_change(r, old_rows[r.id]) for r in rows if r.id in old_rows]
    changes = [c for c in changes if c["reasons"]]
    new_ids = {r.id for r in rows}
    return {
        "baseline": baseline.get("path", ""),
        "baseline_created_at": baseline["summary"].get("created_at"),
        "metrics": metric_deltas(summary["metrics"], baseline["summary"].get("metrics", {})),
        "follow_up": metric_deltas(summary["follow_up"], baseline["summary"].get("follow_up", {})),
        "latency_ms": _latency_delta(summary, baseline["summary"]),
        "improved": [c for c in changes if c["verdict"] == "improved"],
        "regressed": [c for c in changes if c["verdict"] == "regressed"],
        "mixed": [c for c in changes if c["verdict"] == "mixed"],
        "only_new": sorted(new_ids - set(old_rows)),
        "only_baseline": sorted(set(old_rows) - new_ids),
        "settings_changed": _settings_changed(summary, baseline["summary"]),
        "dataset_changed": summary["dataset"].get("sha256")
        != baseline["summary"].get("dataset", {}).get("sha256"),
    }


def metric_deltas(new: dict[str, Any], old: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per metric present in either run: old, new, delta, better (None if equal)."""
    out = []
    for spec in m.METRICS:
        before = (old.get(spec.key) or {}).get("value")
        after = (new.get(spec.key) or {}).get("value")
        if before is None and after is None:
            continue
        delta = None if before is None or after is None else round(after - before, 4)
        better = None if not delta else (delta > 0) == spec.higher_is_better
        out.append(
            {
                "key": spec.key,
                "label": spec.label,
                "old": before,
                "new": after,
                "delta": delta,
                "better": better,
            }
        )
    return out


def _latency_delta(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for q in ("p50", "p95"):
        before = (old.get("latency_ms") or {}).get(q)
        after = new["latency_ms"].get(q)
        delta = None if before is None or after is None else round(after - before, 1)
        out[q] = {"old": before, "new": after, "delta": delta}
    return out


def _settings_changed(new: dict[str, Any], old: dict[str, Any]) -> dict[str, list[Any]]:
    before, after = old.get("settings") or {}, new.get("settings") or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def _row_change(new: RowResult, old: dict[str, Any]) -> dict[str, Any]:
    reasons: list[tuple[str, int]] = []  # (text, +1 better / -1 worse / 0 neutral)
    was, now = old.get("diagnosis", ""), new.diagnosis
    if was != now:
        direction = 1 if now == m.OK else -1 if was == m.OK else 0
        reasons.append((f"{was} → {now}", direction))
    old_metrics = old.get("metrics") or {}
    for key in TRACKED:
        before, after = old_metrics.get(key), new.metrics.get(key)
        if before is None or after is None or abs(after - before) < MIN_CHANGE:
            continue
        up = (after > before) == m.SPECS[key].higher_is_better
        reasons.append((f"{key} {before:.2f} → {after:.2f}", 1 if up else -1))
    signs = {sign for _, sign in reasons if sign}
    verdict = "improved" if signs == {1} else "regressed" if signs == {-1} else "mixed"
    return {
        "id": new.id,
        "question": new.question,
        "verdict": verdict,
        "reasons": [text for text, _ in reasons],
    }
