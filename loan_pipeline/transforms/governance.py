"""Governance: which thresholds a monitoring month breaches, and the stable key of the retrain it calls for.

ONE pure function (`breaches`) decides; the sensor and the cycle driver both call it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
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


def missing_features(row: Mapping[str, Any]) -> dict[str, float]:
    """{feature: missing share} of the features the champion was trained on that are entirely missing in
    the month's scored loans (monitoring.drift); a JSON text in the monitoring table."""
    value = row.get("features_missing")
    if isinstance(value, str) and value:
        return json.loads(value)
    return dict(value) if isinstance(value, Mapping) else {}


def breaches(row: Mapping[str, Any], thresholds: GovernanceThresholds, min_cohort: int = MIN_COHORT) -> dict[str, dict]:
    """{name: {"value", "threshold", "rule"}} for every threshold the monitoring row breaches.
    Missing metrics (no champion yet, no matured cohort) breach nothing; a feature the model uses that is
    missing from every scored loan of the month breaches feature PSI (its drift cannot be measured)."""
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
    missing = missing_features(row)
    if missing:
        out["psi_feature"] = {
            "value": "missing", "threshold": thresholds.max_psi,
            "rule": f"features missing from every scored loan ({', '.join(sorted(missing)[:5])}{', ...' if len(missing) > 5 else ''})",
        }
    elif psi_feature is not None and psi_feature >= thresholds.max_psi:
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


# The governance thresholds as asset checks on `monitoring` (assets/monitoring.py), by check name.
GOVERNANCE_CHECKS = ("auc_above_minimum", "precision_above_minimum", "recall_above_minimum", "score_psi_below_maximum", "feature_psi_below_maximum")


def check_descriptions(thresholds: GovernanceThresholds, min_cohort: int = MIN_COHORT) -> dict[str, str]:
    """What each governance check asserts, with its configured threshold (settings.GovernanceThresholds)."""
    cohort = f"on the cohort whose labels matured in the month (at least {min_cohort} loans; else not evaluable)"
    return {
        "auc_above_minimum": f"AUC >= {thresholds.min_auc} {cohort}.",
        "precision_above_minimum": f"Precision >= {thresholds.min_precision} at the champion's threshold, {cohort}.",
        "recall_above_minimum": f"Recall >= {thresholds.min_recall} at the champion's threshold, {cohort}.",
        "score_psi_below_maximum": f"PSI of the month's scores against the champion's training scores < {thresholds.max_psi}.",
        "feature_psi_below_maximum": f"PSI of every model feature against the champion's training data < {thresholds.max_psi}, "
        "and no feature missing from every scored loan.",
    }


@dataclass(frozen=True)
class CheckOutcome:
    """One governance check on one month: passed (None: not evaluable, `reason` says why), the measured
    value, the threshold, the cohort size behind it, and the features concerned (feature PSI)."""

    passed: bool | None
    value: float | str | None
    threshold: float
    cohort: int
    reason: str = ""
    features: dict[str, float | str] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        status = "not evaluable" if self.passed is None else ("passed" if self.passed else "failed")
        out = {"status": status, "value": self.value, "threshold": self.threshold, "cohort": self.cohort}
        if self.reason:
            out["reason"] = self.reason
        if self.features:
            out["features"] = self.features
        return out


def check_outcomes(row: Mapping[str, Any], thresholds: GovernanceThresholds, min_cohort: int = MIN_COHORT) -> dict[str, CheckOutcome]:
    """The five governance checks of one monitoring row; the same rules as `breaches`, plus why a check
    could not be evaluated (no champion, no loans scored, no or too small a matured cohort)."""
    found = breaches(row, thresholds, min_cohort)
    matched = int(_num(row.get("n_matched")) or 0)
    scored = int(_num(row.get("n_scored")) or 0)
    champion = row.get("model_version")
    out: dict[str, CheckOutcome] = {}
    for check, metric, limit in (
        ("auc_above_minimum", "auc", thresholds.min_auc),
        ("precision_above_minimum", "precision", thresholds.min_precision),
        ("recall_above_minimum", "recall", thresholds.min_recall),
    ):
        value = _num(row.get(metric))
        if matched == 0:
            out[check] = CheckOutcome(None, None, limit, 0, "no matured cohort: no loan scored in the cohort month has its label yet")
        elif matched < min_cohort:
            out[check] = CheckOutcome(None, value, limit, matched, f"matured cohort of {matched} loans, fewer than {min_cohort}")
        elif value is None:
            out[check] = CheckOutcome(None, None, limit, matched, f"{metric} undefined: the cohort has a single class")
        else:
            out[check] = CheckOutcome(metric not in found, round(value, 4), limit, matched)
    if not champion or (isinstance(champion, float) and math.isnan(champion)):
        reason = "no champion in force for the month"
    elif scored == 0:
        reason = "no loan scored in the month"
    else:
        reason = ""
    psi_score = _num(row.get("psi_score"))
    out["score_psi_below_maximum"] = (
        CheckOutcome(None, None, thresholds.max_psi, scored, reason) if reason or psi_score is None
        else CheckOutcome("psi_score" not in found, round(psi_score, 4), thresholds.max_psi, scored)
    )
    missing = missing_features(row)
    psi_feature = _num(row.get("psi_feature_max"))
    if reason or (psi_feature is None and not missing):
        out["feature_psi_below_maximum"] = CheckOutcome(None, None, thresholds.max_psi, scored, reason or "no feature PSI")
    else:
        feature_psi = json.loads(row.get("feature_psi") or "{}")
        offending = {f: round(v, 4) for f, v in feature_psi.items() if v >= thresholds.max_psi}
        offending.update({f: "missing" for f in missing})
        out["feature_psi_below_maximum"] = CheckOutcome(
            "psi_feature" not in found, round(psi_feature, 4) if psi_feature is not None else None, thresholds.max_psi, scored,
            features=offending,
        )
    return out
