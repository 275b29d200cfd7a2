"""Scoring: one row per loan of the month, with the model version and the validation threshold applied."""

from __future__ import annotations

import numpy as np

from loan_pipeline.features import MODEL_FEATURES
from loan_pipeline.transforms import training as T
from loan_pipeline.transforms.scoring import PREDICTION_COLUMNS, empty_predictions, score
from loan_pipeline_tests.transforms.test_training import make_gold


def test_score_month():
    features, labels = make_gold(per_month=60)
    frame = T.labelled_frame(features, labels, "2024-12-01")
    pipe = T.build_pipeline(T.candidate_estimators()["logistic_regression"], MODEL_FEATURES)
    pipe.fit(T.model_inputs(frame, MODEL_FEATURES), frame["label"])
    month = features[features["month"] == "2024-12-01"]
    bundle = {"version": "2024-12-abc", "features": list(MODEL_FEATURES), "threshold": 0.4}
    out = score(month, "2024-12-01", pipe, bundle)
    assert list(out.columns) == list(PREDICTION_COLUMNS)
    assert len(out) == len(month) and set(out["loan_id"]) == set(month["loan_id"])
    assert (out["model_version"] == "2024-12-abc").all() and (out["application_month"] == "2024-12-01").all()
    np.testing.assert_allclose(out["prediction_proba"], pipe.predict_proba(T.model_inputs(month, MODEL_FEATURES))[:, 1])
    assert ((out["prediction_proba"] >= 0.4) == (out["prediction"] == 1)).all()
    assert score(month.iloc[:0], "2024-12-01", pipe, bundle).empty
    assert list(empty_predictions().columns) == list(PREDICTION_COLUMNS)
