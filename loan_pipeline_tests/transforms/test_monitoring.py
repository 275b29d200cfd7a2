"""Monitoring: PSI against hand-computed values, performance metrics against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from loan_pipeline.settings import GovernanceThresholds
from loan_pipeline.transforms import monitoring as M


def test_psi_hand_computed():
    assert M.psi([0.25, 0.25, 0.5], [0.25, 0.25, 0.5]) == 0.0
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)  # = 0.2747
    assert M.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert M.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    # an empty bin gets epsilon instead of log(0)
    empty = M.psi([0.5, 0.5, 0.0], [0.5, 0.4, 0.1])
    assert math.isfinite(empty)
    assert empty == pytest.approx((0.4 - 0.5) * math.log(0.8) + (0.1 - 1e-4) * math.log(0.1 / 1e-4))


def test_numeric_psi_uses_reference_deciles():
    ref = np.arange(1000, dtype=float)  # deciles at 99.9, 199.8, ...
    profile = M.numeric_profile(ref)
    assert len(profile["edges"]) == 9
    assert profile["shares"][:10] == pytest.approx([0.1] * 10) and profile["shares"][10] == 0  # last = missing
    assert M.psi_against(profile, ref) == pytest.approx(0.0)
    # all current values in the first reference decile: 0.9 * ... computed by hand
    cur = np.zeros(100)
    expected = (1 - 0.1) * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert M.psi_against(profile, cur) == pytest.approx(expected)
    # missing values land in their own bin
    with_nan = np.append(ref, [np.nan] * 1000)
    assert M.numeric_shares(with_nan, profile)[-1] == pytest.approx(0.5)


def test_categorical_psi_by_category_share():
    profile = M.categorical_profile(["a", "a", "b", "b"])
    assert profile["shares"] == {"a": 0.5, "b": 0.5}
    assert M.psi_against(profile, ["a", "b"]) == pytest.approx(0.0)
    assert M.psi_against(profile, ["a", "b", "b", "b"]) == pytest.approx(0.274653, abs=1e-6)
    assert M.psi_against(profile, ["a", "b", None, None]) > 0.2  # unseen category (missing) counts as drift


def test_performance_matches_sklearn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    pred = (p >= 0.5).astype(int)
    perf = M.performance(y, p, pred)
    assert perf["auc"] == pytest.approx(roc_auc_score(y, p))
    assert perf["gini"] == pytest.approx(2 * roc_auc_score(y, p) - 1)
    assert perf["precision"] == pytest.approx(precision_score(y, pred))
    assert perf["recall"] == pytest.approx(recall_score(y, pred))
    assert perf["f1"] == pytest.approx(f1_score(y, pred))
    assert perf["tp"] + perf["fp"] + perf["fn"] + perf["tn"] == perf["n_matched"] == 400
    assert perf["n_positive"] == y.sum()
    empty = M.performance([], [], [])
    assert empty["n_matched"] == 0 and math.isnan(empty["auc"])


def test_monitoring_row_joins_the_matured_cohort_and_flags_breaches():
    preds = pd.DataFrame(
        {"loan_id": ["a", "b", "c", "d"], "model_version": "v1", "prediction_proba": [0.9, 0.2, 0.8, 0.1], "prediction": [1, 0, 1, 0]}
    )
    labels = pd.DataFrame(
        {"loan_id": ["a", "b", "c", "x"], "label": [1, 0, 0, 1], "application_month": "2024-01-01", "label_month": "2024-07-01"}
    )
    cohort = M.matured_cohort(preds, labels)
    assert sorted(cohort["loan_id"]) == ["a", "b", "c"]
    row = M.monitoring_row("2024-07-01", "2024-01-01", "v1", None, pd.DataFrame(), pd.DataFrame(), cohort, len(labels), GovernanceThresholds())
    assert row["n_matched"] == 3 and row["n_labels"] == 4 and row["precision"] == pytest.approx(0.5)
    assert row["breaches"] == ""  # 3 labels: below the minimum cohort for performance thresholds
    frame = M.monitoring_frame([row])
    assert list(frame["month"]) == ["2024-07-01"] and frame["n_matched"].dtype == "int64"


def test_a_feature_missing_in_the_month_is_reported_missing_not_as_a_psi():
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"Age": rng.normal(40, 8, 1000), "fe_1_mean": rng.normal(0, 1, 1000), "Credit_Mix": rng.choice(["Good", "Bad"], 1000)})
    reference = M.reference_profile(train, rng.uniform(size=1000), ["Age", "fe_1_mean", "Credit_Mix"])
    month = pd.DataFrame({"Age": rng.normal(40, 8, 300), "fe_1_mean": [np.nan] * 300, "Credit_Mix": [None] * 300})
    d = M.drift(reference, month, rng.uniform(size=300))
    assert d["features_missing"] == {"fe_1_mean": 1.0, "Credit_Mix": 1.0}
    assert set(d["feature_psi"]) == {"Age"} and d["feature_psi"]["Age"] < 0.1
    # before: the emptied bins' floor alone made a PSI of ~9 (ln(1 / EPSILON))
    assert M.psi_against(reference["features"]["fe_1_mean"], month["fe_1_mean"]) > 9
