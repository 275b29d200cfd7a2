"""Model store: hash-verified bundles and the champion registry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from loan_pipeline.transforms.model_store import BundleIntegrityError, ModelStore, sha256_file


def _fitted():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    return LogisticRegression().fit(X, (X["a"] > 0).astype(int)), X


def _meta():
    return {
        "estimator": "logistic_regression",
        "features": ["a", "b"],
        "threshold": 0.5,
        "windows": {"train": ["2023-01-01"], "validation": ["2023-02-01"], "test": ["2023-03-01"], "oot": ["2023-04-01"]},
        "metrics": {"logistic_regression": {"auc": {"oot": 0.9}}},
    }


def test_bundle_roundtrip_is_hash_verified(tmp_path):
    store = ModelStore(tmp_path)
    model, X = _fitted()
    bundle = store.save_bundle(model, _meta(), "2024-11-01")
    path = store.bundle_dir(bundle["version"]) / "pipeline.joblib"
    assert bundle["sha256"] == sha256_file(path)
    assert bundle["version"].startswith("2024-11-") and bundle["sha256"].startswith(bundle["version"][8:])
    assert {"scikit-learn", "numpy", "pandas", "python"} <= set(bundle["library_versions"])
    loaded, meta = store.load(bundle["version"])
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    assert json.loads((store.bundle_dir(bundle["version"]) / "bundle.json").read_text())["threshold"] == 0.5
    # same content, same version (re-running a training does not duplicate bundles)
    assert store.save_bundle(model, _meta(), "2024-11-01")["version"] == bundle["version"]


def test_tampered_bundle_is_refused(tmp_path):
    store = ModelStore(tmp_path)
    model, _ = _fitted()
    version = store.save_bundle(model, _meta(), "2024-11-01")["version"]
    path = store.bundle_dir(version) / "pipeline.joblib"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(BundleIntegrityError, match=f"model bundle {version} refused: sha256"):
        store.load(version)
    # rewriting bundle.json's hash too is still caught by the registry's copy
    meta_path = store.bundle_dir(version) / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = sha256_file(path)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError):
        store.verify(version)


def test_registry_champion_chain(tmp_path):
    store = ModelStore(tmp_path)
    model, _ = _fitted()
    v = store.save_bundle(model, _meta(), "2024-11-01")["version"]
    assert store.champion_before("2024-11-01") is None
    store.record_month("2024-10-01", {"champion": None, "trained": None})
    store.record_month("2024-11-01", {"champion": v, "trained": v})
    store.record_month("2024-12-01", {"champion": v, "trained": None})
    assert store.champion_for("2024-12-01") == v
    before = store.champion_before("2025-01-01")
    assert before == {"version": v, "trained_month": "2024-11-01", "data_end": "2023-04-01", "sha256": before["sha256"]}
    assert store.last_training_before("2025-01-01")["month"] == "2024-11-01"
    assert store.champion_before("2024-11-01") is None
