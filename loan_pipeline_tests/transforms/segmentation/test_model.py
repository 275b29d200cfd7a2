"""The model: blanks left out of fitting but segmented, and the stability between two models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_pipeline.transforms.segmentation.inputs import DEFAULT_CC_FEATURES, feature_matrix
from loan_pipeline.transforms.segmentation.model import fit_preprocessor, stability_ari
from loan_pipeline.transforms.segmentation.pipeline import segment_customers
from loan_pipeline_tests.transforms.segmentation.samples import blobs


def test_rows_with_blanks_are_not_fitted_but_get_a_segment(sample_customers):
    df = sample_customers.dropna(subset=list(DEFAULT_CC_FEATURES)).reset_index(drop=True)
    df.loc[[0, 1], "CREDIT_LIMIT"] = np.nan
    X = feature_matrix(df, DEFAULT_CC_FEATURES, "x")
    prep = fit_preprocessor(X, "x")
    # The scaler was fit without the blank rows.
    assert prep.named_steps["scale"].n_samples_seen_ == len(df) - 2
    assert prep.named_steps["impute"].statistics_[2] == pytest.approx(df["CREDIT_LIMIT"].iloc[2:].median())
    result = segment_customers(df, DEFAULT_CC_FEATURES, 10, "x")
    assert result.fit_rows == len(df) - 2
    assert result.assignments.loc[[0, 1], "n_imputed"].tolist() == [1, 1]
    assert result.assignments["n_imputed"].iloc[2:].eq(0).all()
    assert result.assignments["segment"].between(0, result.elbow.k - 1).all()
    # Profiles count every customer; means use observed values only.
    assert result.profiles["customers"].sum() == len(df)
    blank_segment = result.assignments.loc[0, "segment"]
    assert result.profiles.loc[blank_segment, "mean_CREDIT_LIMIT"] == pytest.approx(
        df.loc[result.assignments["segment"] == blank_segment, "CREDIT_LIMIT"].mean()
    )


def test_stability_ari_is_one_against_the_same_model_and_lower_against_another():
    df = pd.DataFrame(blobs(4, seed=2), columns=["a", "b", "c"])
    result = segment_customers(df, ["a", "b", "c"], 15, "x", reduce_k=True)
    assert stability_ari(result.model, result.model, df, "x") == pytest.approx(1.0)
    assert stability_ari(None, result.model, df, "x") is None
    other = segment_customers(pd.DataFrame(blobs(2, seed=9), columns=["a", "b", "c"]), ["a", "b", "c"], 15, "x")
    assert stability_ari(other.model, result.model, df, "x") < 0.9
