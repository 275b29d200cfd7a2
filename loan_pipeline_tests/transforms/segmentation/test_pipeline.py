"""The whole segmentation: on blobs, deterministic, and on the real CC GENERAL data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline.transforms.segmentation.model import model_k, outside_training_range
from loan_pipeline.transforms.segmentation.pipeline import run_cc_segmentation, segment_customers
from loan_pipeline_tests.transforms.segmentation.samples import blobs, write_cc


def test_elbow_on_blobs_through_the_whole_pipeline_with_k_49():
    X = blobs(5, n=1000, seed=3) * [5000.0, 20000.0, 30000.0]  # original units; MinMax brings them back
    df = pd.DataFrame(X, columns=["BALANCE", "PURCHASES", "CREDIT_LIMIT"])
    result = segment_customers(df, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"], max_k=49, source="blobs")
    assert result.elbow.k == 5
    assert model_k(result.model) == 5
    assert sorted(result.profiles["customers"]) == [200] * 5


def test_same_input_gives_same_k_model_and_assignments():
    df = pd.DataFrame(blobs(4, seed=5), columns=["a", "b", "c"])
    first = segment_customers(df, ["a", "b", "c"], 25, "x")
    second = segment_customers(df, ["a", "b", "c"], 25, "x")
    assert first.elbow == second.elbow
    np.testing.assert_array_equal(first.model.named_steps["kmeans"].cluster_centers_, second.model.named_steps["kmeans"].cluster_centers_)
    pd.testing.assert_frame_equal(first.assignments, second.assignments)


def test_fewer_customers_than_k_is_an_error_naming_the_file(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.head(20))
    with pytest.raises(SegmentationInputError, match=r"file.csv: 20 customers with all features, fewer than max_k=49"):
        run_cc_segmentation(folder)


def test_real_data_elbow_is_computed_and_stable(real_run, cc_general_dir):
    assert real_run.elbow.found
    assert real_run.elbow.max_k == 49
    assert real_run.fit_rows == 8949  # one blank CREDIT_LIMIT is not fitted
    assert 3 <= real_run.elbow.k <= 15
    assert all(b <= a for a, b in zip(real_run.elbow.sse, real_run.elbow.sse[1:]))
    again = run_cc_segmentation(cc_general_dir)
    assert again.elbow == real_run.elbow
    pd.testing.assert_frame_equal(again.assignments, real_run.assignments)


def test_real_test_customer_gets_a_segment(real_run):
    test = real_run.extras["test"]
    assert len(test) == 1
    assert test.loc[0, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]].tolist() == [3202.467416, 124.5, 241514.0]
    assert 0 <= test.loc[0, "segment"] < real_run.elbow.k
    # Its credit limit is eight times the largest seen when fitting: worth saying.
    assert outside_training_range(real_run.model, test).iloc[0] == ["CREDIT_LIMIT"]


def test_real_profiles_cover_every_customer_in_original_units(real_run):
    profiles = real_run.profiles
    assert len(profiles) == real_run.elbow.k
    assert profiles["customers"].sum() == 8950
    assert (profiles["customers"] > 0).all()
    # A size-weighted mean of segment means is the overall mean (original units, not scaled).
    weighted = (profiles["mean_BALANCE"] * profiles["customers"]).sum() / profiles["customers"].sum()
    assert weighted == pytest.approx(1564.474828, rel=1e-6)
