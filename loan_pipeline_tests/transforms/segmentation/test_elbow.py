"""The SSE sweep, the kneed elbow and the rules that bound K."""

from __future__ import annotations

import numpy as np
import pytest

from loan_pipeline.transforms.segmentation.elbow import compute_elbow, effective_max_k, find_elbow, sse_sweep
from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline_tests.transforms.segmentation.samples import blobs


@pytest.mark.parametrize("n_clusters", [3, 4, 6, 8])
def test_elbow_finds_the_number_of_well_separated_blobs(n_clusters):
    # K = 49 as in production; with a short curve (K = 10) kneed's normalised elbow tends to sit
    # one or two k early on many clusters, so the test uses the real K.
    elbow = compute_elbow(blobs(n_clusters, n=120 * n_clusters), max_k=49, source="blobs")
    assert elbow.found
    assert elbow.k == n_clusters


def test_sse_is_non_increasing_in_k():
    for X in (blobs(4), np.random.RandomState(1).uniform(size=(500, 3))):
        sse = sse_sweep(X, 30)
        assert len(sse) == 30
        assert all(b <= a for a, b in zip(sse, sse[1:])), sse
        assert sse[0] == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())


def test_sse_sweep_with_fewer_distinct_rows_than_k_stays_at_zero():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), 5, axis=0)
    sse = sse_sweep(X, 8)
    assert sse[2] == pytest.approx(0.0, abs=1e-12)
    assert sse[3:] == [0.0] * 5


def test_no_elbow_falls_back_to_one_segment():
    assert find_elbow([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]) == (1, False)
    assert find_elbow([1, 2], [4.0, 1.0]) == (1, False)


def test_max_k_reduction_rules():
    assert effective_max_k(100, 49, "x", reduce=False) == 49
    assert effective_max_k(49, 49, "x", reduce=False) == 49
    assert effective_max_k(10, 49, "x", reduce=True) == 9
    assert effective_max_k(1, 49, "x", reduce=True) == 1
    with pytest.raises(SegmentationInputError, match=r"file.csv: 10 customers .* fewer than max_k=49"):
        effective_max_k(10, 49, "file.csv", reduce=False)
