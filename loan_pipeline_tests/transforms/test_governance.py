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


SCORED = {**OK, "model_version": "2024-11-abc", "n_scored": 480, "feature_psi": '{"Age": 0.01, "fe_1_mean": 0.1}', "features_missing": "{}"}


def test_checks_report_value_threshold_and_cohort():
    t = GovernanceThresholds()
    outcomes = G.check_outcomes({**SCORED, "precision": 0.584}, t)
    assert set(outcomes) == set(G.GOVERNANCE_CHECKS)
    precision = outcomes["precision_above_minimum"]
    assert (precision.passed, precision.value, precision.threshold, precision.cohort) == (False, 0.584, 0.6, 500)
    assert outcomes["auc_above_minimum"].as_metadata() == {"status": "passed", "value": 0.81, "threshold": 0.7, "cohort": 500}
    assert (outcomes["score_psi_below_maximum"].passed, outcomes["score_psi_below_maximum"].cohort) == (True, 480)
    drifted = G.check_outcomes({**SCORED, "psi_feature_max": 0.31, "psi_feature_max_name": "Age", "feature_psi": '{"Age": 0.31, "fe_1_mean": 0.25, "x": 0.1}'}, t)
    assert drifted["feature_psi_below_maximum"].passed is False
    assert drifted["feature_psi_below_maximum"].features == {"Age": 0.31, "fe_1_mean": 0.25}


def test_a_month_that_cannot_be_judged_says_why():
    t = GovernanceThresholds()
    no_champion = G.check_outcomes({"monitoring_month": "2023-08-01", "n_matched": 0, "n_scored": 0, "model_version": None}, t)
    assert all(o.passed is None for o in no_champion.values())
    assert no_champion["auc_above_minimum"].reason.startswith("no matured cohort")
    assert no_champion["score_psi_below_maximum"].reason == "no champion in force for the month"
    assert no_champion["score_psi_below_maximum"].as_metadata()["status"] == "not evaluable"
    small = G.check_outcomes({**SCORED, "n_matched": 12, "auc": 0.5}, t)["auc_above_minimum"]
    assert (small.passed, small.cohort) == (None, 12) and "fewer than 50" in small.reason
    one_class = G.check_outcomes({**SCORED, "auc": math.nan}, t)["auc_above_minimum"]
    assert one_class.passed is None and "single class" in one_class.reason


def test_a_feature_missing_from_every_scored_loan_fails_feature_psi_as_missing():
    t = GovernanceThresholds()
    row = {**SCORED, "features_missing": '{"fe_1_mean": 1.0, "fe_2_mean": 1.0}', "feature_psi": '{"Age": 0.01}', "psi_feature_max": 0.01}
    found = G.breaches(row, t)
    assert found["psi_feature"]["value"] == "missing" and "fe_1_mean, fe_2_mean" in found["psi_feature"]["rule"]
    outcome = G.check_outcomes(row, t)["feature_psi_below_maximum"]
    assert outcome.passed is False and outcome.features == {"fe_1_mean": "missing", "fe_2_mean": "missing"}
    # the retrain it requests has the same stable key as a feature-PSI breach
    assert G.retrain_requests([row], t)[0]["run_key"] == "retrain-2025-05-01-psi_feature"
