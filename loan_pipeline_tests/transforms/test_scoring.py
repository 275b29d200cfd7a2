"""Scoring: one row per loan of the month, with the model version and the validation threshold applied."""

from __future__ import annotations

import numpy as np

from loan_pipeline.features import MODEL_FEATURES
from loan_pipeline.transforms.scoring import PREDICTION_COLUMNS, empty_predictions, score
from loan_pipeline.transforms.training.candidates import build_pipeline, candidate_estimators, model_inputs
from loan_pipeline.transforms.training.splits import labelled_frame
from loan_pipeline_tests.transforms.training.gold_frames import make_gold


def test_score_month():
    features, labels = make_gold(per_month=60)
    frame = labelled_frame(features, labels, "2024-12-01")
    pipe = build_pipeline(candidate_estimators()["logistic_regression"], MODEL_FEATURES)
    pipe.fit(model_inputs(frame, MODEL_FEATURES), frame["label"])
    month = features[features["month"] == "2024-12-01"]
    bundle = {"version": "2024-12-abc", "features": list(MODEL_FEATURES), "threshold": 0.4}
    out = score(month, "2024-12-01", pipe, bundle)
    assert list(out.columns) == list(PREDICTION_COLUMNS)
    assert len(out) == len(month) and set(out["loan_id"]) == set(month["loan_id"])
    assert (out["model_version"] == "2024-12-abc").all() and (out["application_month"] == "2024-12-01").all()
    np.testing.assert_allclose(out["prediction_proba"], pipe.predict_proba(model_inputs(month, MODEL_FEATURES))[:, 1])
    assert ((out["prediction_proba"] >= 0.4) == (out["prediction"] == 1)).all()
    assert score(month.iloc[:0], "2024-12-01", pipe, bundle).empty
    assert list(empty_predictions().columns) == list(PREDICTION_COLUMNS)
