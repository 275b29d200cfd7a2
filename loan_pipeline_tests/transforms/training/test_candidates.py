"""Candidate models: preprocessing fit on train only, selection on validation AUC, importances, concurrent fits."""

from __future__ import annotations

import numpy as np
import pytest

from loan_pipeline.features import CATEGORICAL_FEATURES, MODEL_FEATURES
from loan_pipeline.transforms.training import candidates as candidates_module
from loan_pipeline.transforms.training.candidates import (
    CandidateResult, build_pipeline, candidate_estimators, feature_importances, model_inputs, select_best, train_candidates,
)
from loan_pipeline.transforms.training.policy import TrainingPolicy
from loan_pipeline.transforms.training.splits import SPLITS, labelled_frame, split_windows
from loan_pipeline_tests.transforms.training.gold_frames import make_gold


def test_preprocessing_is_fit_on_the_train_split_only():
    features, labels = make_gold(per_month=60)
    frame = labelled_frame(features, labels, "2024-12-01")
    w = split_windows(frame["application_month"].unique(), TrainingPolicy())
    candidates, _ = train_candidates(frame, w, TrainingPolicy())
    train = frame[frame["application_month"].isin(w.train)]
    numeric = [c for c in MODEL_FEATURES if c not in CATEGORICAL_FEATURES]
    for cand in candidates:
        imputer = cand.pipeline.named_steps["preprocess"].named_transformers_["num"].named_steps["impute"]
        np.testing.assert_allclose(imputer.statistics_, train[numeric].median().to_numpy())
        scaler = cand.pipeline.named_steps["preprocess"].named_transformers_["num"].named_steps["scale"]
        np.testing.assert_allclose(scaler.mean_, train[numeric].fillna(train[numeric].median()).mean().to_numpy(), rtol=1e-9)
        # the saved Pipeline reproduces the scores the candidate was evaluated with
        oot = frame[frame["application_month"].isin(w.oot)]
        np.testing.assert_allclose(cand.pipeline.predict_proba(model_inputs(oot, MODEL_FEATURES))[:, 1], cand.proba["oot"])
    # the signal is learnable: every candidate is far better than chance out of time
    assert all(c.auc["oot"] > 0.75 for c in candidates)


def test_selection_uses_validation_auc_only():
    def cand(name, val, oot):
        return CandidateResult(name, None, (), {"train": 1.0, "validation": val, "test": 0.5, "oot": oot}, 0.5, 0.0)

    best = select_best([cand("a", 0.80, 0.99), cand("b", 0.85, 0.60)])
    assert best.name == "b"


def test_feature_importances_find_the_signal():
    features, labels = make_gold(per_month=80)
    frame = labelled_frame(features, labels, "2024-12-01")
    w = split_windows(frame["application_month"].unique(), TrainingPolicy())
    candidates, _ = train_candidates(frame, w, TrainingPolicy())
    val = frame[frame["application_month"].isin(w.validation)]
    for cand in candidates:  # native importances (RF), |coef| (LR), permutation AUC drop (HistGradientBoosting)
        top = feature_importances(cand.pipeline, top=3, X=model_inputs(val, MODEL_FEATURES), y=val["label"].to_numpy())
        assert {"Credit_History_Months", "loan_amt"} <= {name for name, _ in top}, (cand.name, top)


def test_permutation_importance_for_estimators_without_their_own():
    from sklearn.neighbors import KNeighborsClassifier

    features, labels = make_gold(per_month=80)
    frame = labelled_frame(features, labels, "2024-12-01")
    X, y = model_inputs(frame, ["Credit_History_Months", "loan_amt", "Age", "Credit_Mix"]), frame["label"].to_numpy()
    pipe = build_pipeline(KNeighborsClassifier(50), list(X.columns)).fit(X, y)
    top = feature_importances(pipe, top=2, X=X, y=y)
    assert {name for name, _ in top} == {"Credit_History_Months", "loan_amt"}


def test_candidates_fit_side_by_side_give_the_models_fit_one_after_another(monkeypatch):
    features, labels = make_gold(per_month=60)
    frame = labelled_frame(features, labels, "2024-12-01")
    w = split_windows(frame["application_month"].unique(), TrainingPolicy())
    runs = {}
    for workers in (1, 3):
        monkeypatch.setattr(candidates_module, "CANDIDATE_WORKERS", workers)
        candidates, _ = train_candidates(frame, w, TrainingPolicy())
        runs[workers] = candidates
    assert [c.name for c in runs[3]] == [c.name for c in runs[1]] == list(candidate_estimators())
    for alone, together in zip(runs[1], runs[3]):
        # The random forest sums its trees' votes in whichever order its own threads finish, so scores
        # agree to the last bits only (as between two sequential runs).
        assert together.auc == pytest.approx(alone.auc, abs=1e-12) and together.threshold == pytest.approx(alone.threshold, abs=1e-12)
        for split in SPLITS:
            np.testing.assert_allclose(together.proba[split], alone.proba[split], rtol=1e-12, atol=0)
