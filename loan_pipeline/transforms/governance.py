"""Governance: which thresholds a monitoring month breaches, and the stable key of the retrain it calls for.

ONE pure function (`breaches`) decides; the sensor and the cycle driver both call it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from loan_pipeline.settings import GovernanceThresholds

RETRAIN_TAG_PREFIX = "loan_pipeline"
FORCE_RETRAIN_TAG = f"{RETRAIN_TAG_PREFIX}/force_retrain"
# A matured cohort this small says little about the model: performance thresholds need this many labels.
MIN_COHORT = 50


def _num(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def breaches(row: Mapping[str, Any], thresholds: GovernanceThresholds, min_cohort: int = MIN_COHORT) -> dict[str, dict]:
    """{name: {"value", "threshold", "rule"}} for every threshold the monitoring row breaches.
    Missing metrics (no champion yet, no matured cohort) breach nothing."""
    out: dict[str, dict] = {}
    n = _num(row.get("n_matched")) or 0
    if n >= min_cohort:
        for name, limit in (("auc", thresholds.min_auc), ("precision", thresholds.min_precision), ("recall", thresholds.min_recall)):
            value = _num(row.get(name))
            if value is not None and value < limit:
                out[name] = {"value": round(value, 4), "threshold": limit, "rule": f"{name} < {limit}"}
    psi_score = _num(row.get("psi_score"))
    if psi_score is not None and psi_score >= thresholds.max_psi:
        out["psi_score"] = {"value": round(psi_score, 4), "threshold": thresholds.max_psi, "rule": f"score PSI >= {thresholds.max_psi}"}
    psi_feature = _num(row.get("psi_feature_max"))
    if psi_feature is not None and psi_feature >= thresholds.max_psi:
        out["psi_feature"] = {
            "value": round(psi_feature, 4), "threshold": thresholds.max_psi,
            "rule": f"feature PSI >= {thresholds.max_psi} ({row.get('psi_feature_max_name')})",
        }
    return out


def breach_signature(found: Mapping[str, dict]) -> str:
    return "+".join(sorted(found))


def retrain_run_key(month: str, found: Mapping[str, dict]) -> str:
    """Stable per (month, set of breached thresholds): the same breach never triggers twice."""
    return f"retrain-{month}-{breach_signature(found)}"


RETRAIN_MONTHS_TAG = f"{RETRAIN_TAG_PREFIX}/retrain_months"


def run_key_tag(month: str) -> str:
    """Tag naming the run key of a retrain of `month` handled inside a multi-month (cycle) run."""
    return f"{RETRAIN_TAG_PREFIX}/run_key.{month}"


def forced_months_from_tags(tags: Mapping[str, str]) -> set[str]:
    """The months a run must retrain: the sensor's single month or the cycle's comma-separated list."""
    if tags.get(FORCE_RETRAIN_TAG) != "true":
        return set()
    months = set(filter(None, tags.get(RETRAIN_MONTHS_TAG, "").split(",")))
    if tags.get(f"{RETRAIN_TAG_PREFIX}/retrain_month"):
        months.add(tags[f"{RETRAIN_TAG_PREFIX}/retrain_month"])
    return months


def retrain_tags(month: str, found: Mapping[str, dict]) -> dict[str, str]:
    tags = {
        FORCE_RETRAIN_TAG: "true",
        f"{RETRAIN_TAG_PREFIX}/retrain_month": month,
        f"{RETRAIN_TAG_PREFIX}/breaches": breach_signature(found),
        f"{RETRAIN_TAG_PREFIX}/reason": "; ".join(f"{v['rule']}: {v['value']}" for _, v in sorted(found.items())),
    }
    for name, info in found.items():
        tags[f"{RETRAIN_TAG_PREFIX}/breach.{name}"] = f"{info['value']} (threshold {info['threshold']})"
    return tags


def retrain_requests(rows, thresholds: GovernanceThresholds) -> list[dict[str, Any]]:
    """For monitoring rows (mappings with `monitoring_month`), the retrains governance calls for:
    [{"month", "run_key", "tags", "breaches"}] in month order. Used by the sensor AND the cycle driver."""
    out = []
    for row in sorted(rows, key=lambda r: r["monitoring_month"]):
        found = breaches(row, thresholds)
        if found:
            month = row["monitoring_month"]
            out.append({"month": month, "run_key": retrain_run_key(month, found), "tags": retrain_tags(month, found), "breaches": found})
    return out
