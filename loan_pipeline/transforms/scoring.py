"""Scoring: loans of one application month scored by the champion in force for that month."""

from __future__ import annotations

import pandas as pd

from loan_pipeline.transforms.training.candidates import model_inputs

PREDICTION_COLUMNS = (
    "loan_id", "Customer_ID", "application_month", "application_date", "model_version", "prediction_proba",
    "prediction", "decision_threshold",
)


def empty_predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "loan_id": pd.Series(dtype=object), "Customer_ID": pd.Series(dtype=object),
            "application_month": pd.Series(dtype=object), "application_date": pd.Series(dtype="datetime64[ns]"),
            "model_version": pd.Series(dtype=object), "prediction_proba": pd.Series(dtype="float64"),
            "prediction": pd.Series(dtype="int64"), "decision_threshold": pd.Series(dtype="float64"),
        }
    )


def score(features: pd.DataFrame, month: str, pipeline, bundle: dict) -> pd.DataFrame:
    """Score the gold_features rows of `month` with a loaded bundle (pipeline + its metadata)."""
    if features.empty:
        return empty_predictions()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # see training.fit_candidates
        proba = pipeline.predict_proba(model_inputs(features, bundle["features"]))[:, 1]
    threshold = float(bundle["threshold"])
    return pd.DataFrame(
        {
            "loan_id": features["loan_id"].astype(str).to_numpy(),
            "Customer_ID": features["Customer_ID"].astype(str).to_numpy(),
            "application_month": month,
            "application_date": pd.to_datetime(features["application_date"]).to_numpy(),
            "model_version": bundle["version"],
            "prediction_proba": proba.astype("float64"),
            "prediction": (proba >= threshold).astype("int64"),
            "decision_threshold": threshold,
        }
    )[list(PREDICTION_COLUMNS)]
