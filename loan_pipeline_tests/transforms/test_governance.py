"""Governance: which thresholds a month breaches and the stable key of the retrain it requests."""

from __future__ import annotations

import math

from loan_pipeline.settings import GovernanceThresholds
from loan_pipeline.transforms import governance as G

OK = {"monitoring_month": "2025-05-01", "n_matched": 500, "auc": 0.81, "precision": 0.65, "recall": 0.55, "psi_score": 0.05, "psi_feature_max": 0.1}


def test_no_breach():
    assert G.breaches(OK, GovernanceThresholds()) == {}
    assert G.retrain_requests([OK], GovernanceThresholds()) == []


def test_each_threshold():
    t = GovernanceThresholds()
    assert set(G.breaches({**OK, "auc": 0.69}, t)) == {"auc"}
    assert set(G.breaches({**OK, "psi_score": 0.2}, t)) == {"psi_score"}  # PSI at the threshold breaches
    assert set(G.breaches({**OK, "precision": 0.59, "recall": 0.49}, t)) == {"precision", "recall"}
    assert set(G.breaches({**OK, "psi_feature_max": 0.3, "psi_feature_max_name": "fe_1_mean"}, t)) == {"psi_feature"}
    assert G.breaches({**OK, "auc": 0.69}, GovernanceThresholds(min_auc=0.6)) == {}  # thresholds are configuration


def test_missing_or_small_cohort_breaches_nothing():
    t = GovernanceThresholds()
    assert G.breaches({**OK, "auc": math.nan, "precision": None}, t) == {}
    assert G.breaches({**OK, "n_matched": 10, "auc": 0.5}, t) == {}


def test_run_key_is_stable_and_tags_carry_the_reason():
    t = GovernanceThresholds()
    row = {**OK, "auc": 0.65, "recall": 0.40}
    (req,) = G.retrain_requests([row], t)
    assert req["run_key"] == "retrain-2025-05-01-auc+recall"
    assert G.retrain_requests([dict(row, auc=0.60)], t)[0]["run_key"] == req["run_key"]  # same breach, same key
    assert req["tags"][G.FORCE_RETRAIN_TAG] == "true"
    assert req["tags"]["loan_pipeline/breach.auc"] == "0.65 (threshold 0.7)"
    assert "auc < 0.7: 0.65" in req["tags"]["loan_pipeline/reason"]
    assert G.forced_months_from_tags(req["tags"]) == {"2025-05-01"}
    assert G.forced_months_from_tags({G.FORCE_RETRAIN_TAG: "true", G.RETRAIN_MONTHS_TAG: "2025-01-01,2025-02-01"}) == {"2025-01-01", "2025-02-01"}
    assert G.forced_months_from_tags({}) == set()
