"""Monitoring: drift (PSI) against the champion's training reference, and performance on matured labels.

PSI = sum_i (cur_i - ref_i) * ln(cur_i / ref_i) over bins whose edges come from the REFERENCE
distribution (deciles for numerics, plus a bin for missing values; category shares for categoricals).
Empty bins get a floor share of EPSILON so the log stays finite. A feature entirely missing in a month
(e.g. a source that stopped) is reported as missing with its missing share, not given a PSI: its PSI
would only measure that floor (ln(1/EPSILON) ~ 9.2 per emptied bin).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from loan_pipeline.features import CATEGORICAL_FEATURES
from loan_pipeline.settings import GovernanceThresholds
from loan_pipeline.transforms import governance

EPSILON = 1e-4
MISSING = "__missing__"


def numeric_profile(values: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """Interior bin edges at the reference quantiles (deciles by default) and the reference share of each bin."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    present = x[~np.isnan(x)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])) if len(present) else np.array([])
    profile = {"type": "numeric", "edges": edges.tolist()}
    profile["shares"] = numeric_shares(x, profile).tolist()
    return profile


def numeric_shares(values: Sequence[float], profile: Mapping[str, Any]) -> np.ndarray:
    """Shares of len(edges)+1 value bins (x <= e1, e1 < x <= e2, ..., x > e_last) plus a last bin for missing."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    edges = np.asarray(profile["edges"], dtype=float)
    missing = np.isnan(x)
    idx = np.searchsorted(edges, x[~missing], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return counts / max(len(x), 1)


def categorical_profile(values: Sequence[Any]) -> dict[str, Any]:
    s = pd.Series(values, dtype=object).where(pd.notna(pd.Series(values, dtype=object)), MISSING).astype(str)
    return {"type": "categorical", "shares": s.value_counts(normalize=True).sort_index().to_dict()}


def categorical_shares(values: Sequence[Any], profile: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(reference shares, current shares) over the union of categories (new categories count as drift)."""
    s = pd.Series(values, dtype=object).where(pd.notna(pd.Series(values, dtype=object)), MISSING).astype(str)
    cur = s.value_counts(normalize=True).to_dict() if len(s) else {}
    cats = sorted(set(profile["shares"]) | set(cur))
    return np.array([profile["shares"].get(c, 0.0) for c in cats]), np.array([cur.get(c, 0.0) for c in cats])


def psi(reference_shares: Sequence[float], current_shares: Sequence[float], epsilon: float = EPSILON) -> float:
    ref = np.clip(np.asarray(reference_shares, dtype=float), epsilon, None)
    cur = np.clip(np.asarray(current_shares, dtype=float), epsilon, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def reference_profile(frame: pd.DataFrame, scores: np.ndarray, features: Sequence[str]) -> dict[str, Any]:
    """What the champion saw in training: its score distribution and each feature's distribution."""
    return {
        "score": numeric_profile(scores),
        "features": {
            c: categorical_profile(frame[c]) if c in CATEGORICAL_FEATURES else numeric_profile(frame[c]) for c in features
        },
    }


def psi_against(profile: Mapping[str, Any], values: Sequence[Any]) -> float:
    if profile["type"] == "categorical":
        ref, cur = categorical_shares(values, profile)
        return psi(ref, cur)
    return psi(profile["shares"], numeric_shares(values, profile))


def entirely_missing(profile: Mapping[str, Any], values: Sequence[Any]) -> bool:
    """The month has no value of a feature the reference had values of (e.g. a source that stopped):
    its PSI would only measure the empty bins' floor, so it is reported as missing instead."""
    present = pd.Series(values, dtype=object).notna().any() if len(values) else False
    if profile["type"] == "categorical":
        had_values = any(c != MISSING and share > 0 for c, share in profile["shares"].items())
    else:
        had_values = sum(profile["shares"][:-1]) > 0
    return had_values and not present


def drift(reference: Mapping[str, Any], features: pd.DataFrame, scores: Sequence[float]) -> dict[str, Any]:
    """PSI of the scores and of every feature of the month against the reference; features entirely
    missing in the month are listed apart with their missing share (1.0), not given a PSI."""
    if len(scores) == 0:
        return {"psi_score": float("nan"), "feature_psi": {}, "features_missing": {}}
    present = {c: p for c, p in reference["features"].items() if c in features}
    missing = {c: 1.0 for c, p in present.items() if entirely_missing(p, features[c].tolist())}
    feature_psi = {c: round(psi_against(p, features[c]), 6) for c, p in present.items() if c not in missing}
    return {"psi_score": psi_against(reference["score"], scores), "feature_psi": feature_psi, "features_missing": missing}


def performance(y: Sequence[int], proba: Sequence[float], prediction: Sequence[int]) -> dict[str, float]:
    """AUC, Gini, precision, recall, F1 and the confusion counts of a matured cohort."""
    # scikit-learn is imported when a cohort is evaluated, not when the Dagster definitions load.
    from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

    y = np.asarray(y, dtype=int)
    proba = np.asarray(proba, dtype=float)
    prediction = np.asarray(prediction, dtype=int)
    out: dict[str, float] = {"n_matched": int(len(y)), "n_positive": int(y.sum()) if len(y) else 0}
    if len(y) == 0:
        return {**out, **{k: float("nan") for k in ("auc", "gini", "precision", "recall", "f1", "default_rate")},
                "tp": 0, "fp": 0, "fn": 0, "tn": 0}
    auc = float(roc_auc_score(y, proba)) if len(np.unique(y)) == 2 else float("nan")
    tn, fp, fn, tp = confusion_matrix(y, prediction, labels=[0, 1]).ravel()
    return {
        **out,
        "default_rate": float(y.mean()),
        "auc": auc,
        "gini": 2 * auc - 1,
        "precision": float(precision_score(y, prediction, zero_division=0)),
        "recall": float(recall_score(y, prediction, zero_division=0)),
        "f1": float(f1_score(y, prediction, zero_division=0)),
        "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
    }


def matured_cohort(cohort_predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """predictions[M - mob] joined to gold_labels[M] on loan_id (only loans both scored and labelled)."""
    cols = ["loan_id", "model_version", "prediction_proba", "prediction"]
    return cohort_predictions[cols].merge(labels[["loan_id", "label", "application_month", "label_month"]], on="loan_id", how="inner")


MONITORING_COLUMNS = (
    "monitoring_month", "cohort_month", "model_version", "cohort_model_versions", "n_scored", "n_labels", "n_matched",
    "n_positive", "default_rate", "auc", "gini", "precision", "recall", "f1", "tp", "fp", "fn", "tn", "psi_score",
    "psi_feature_max", "psi_feature_max_name", "feature_psi", "features_missing", "breaches", "breach_details",
)


def monitoring_row(
    month: str,
    cohort_month: str,
    model_version: str | None,
    reference: Mapping[str, Any] | None,
    month_features: pd.DataFrame,
    month_predictions: pd.DataFrame,
    cohort: pd.DataFrame,
    n_labels: int,
    thresholds: GovernanceThresholds,
) -> dict[str, Any]:
    """One monitoring row for calendar month `month`; breaches come from governance.breaches."""
    if reference is not None and len(month_predictions):
        scored = month_features.merge(month_predictions[["loan_id", "prediction_proba"]], on="loan_id", how="inner")
        d = drift(reference, scored, scored["prediction_proba"].to_numpy())
    else:
        d = {"psi_score": float("nan"), "feature_psi": {}, "features_missing": {}}
    perf = performance(cohort["label"], cohort["prediction_proba"], cohort["prediction"])
    top = max(d["feature_psi"].items(), key=lambda kv: kv[1]) if d["feature_psi"] else (None, float("nan"))
    row = {
        "monitoring_month": month,
        "cohort_month": cohort_month,
        "model_version": model_version,
        "cohort_model_versions": ",".join(sorted(cohort["model_version"].unique())) if len(cohort) else "",
        "n_scored": int(len(month_predictions)),
        "n_labels": int(n_labels),
        **perf,
        "psi_score": d["psi_score"],
        "psi_feature_max": top[1],
        "psi_feature_max_name": top[0],
        "feature_psi": json.dumps(d["feature_psi"], sort_keys=True),
        "features_missing": json.dumps(d["features_missing"], sort_keys=True),
    }
    found = governance.breaches(row, thresholds)
    row["breaches"] = governance.breach_signature(found)
    row["breach_details"] = json.dumps(found, sort_keys=True)
    return row


def monitoring_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(MONITORING_COLUMNS))
    for c in ("n_scored", "n_labels", "n_matched", "n_positive", "tp", "fp", "fn", "tn"):
        frame[c] = frame[c].fillna(0).astype("int64")
    for c in ("default_rate", "auc", "gini", "precision", "recall", "f1", "psi_score", "psi_feature_max"):
        frame[c] = frame[c].astype("float64")
    for c in ("model_version", "psi_feature_max_name"):
        frame[c] = frame[c].astype(object)
    frame["month"] = frame["monitoring_month"]
    return frame
