"""Saved models: the elbow's k and a manifest whose sha256 guards the file."""

from __future__ import annotations

import numpy as np
import pytest

from loan_pipeline.files import sha256_file
from loan_pipeline.transforms.segmentation.inputs import DEFAULT_CC_FEATURES
from loan_pipeline.transforms.segmentation.persistence import load_model, save_model


def test_saved_model_has_the_elbow_k_and_a_matching_manifest(real_run, tmp_path):
    path = tmp_path / "segmentation" / "cc_kmeans.joblib"
    manifest = save_model(real_run.model, real_run.elbow, path)
    assert manifest["k"] == manifest["elbow_k"] == real_run.elbow.k
    assert manifest["sha256"] == sha256_file(path)
    bundle = load_model(path)
    assert bundle["k"] == real_run.elbow.k
    assert bundle["features"] == list(DEFAULT_CC_FEATURES)
    np.testing.assert_array_equal(bundle["model"].predict(real_run.extras["test"][bundle["features"]]), real_run.extras["test"]["segment"])
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ValueError, match="does not match its manifest"):
        load_model(path)
