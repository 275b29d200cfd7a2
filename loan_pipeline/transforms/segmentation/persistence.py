"""Saving and loading segmentation models: a joblib bundle (model pipeline, features, k) beside a
JSON manifest holding its sha256, so a model is loaded only if it is the file its manifest describes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from loan_pipeline.files import atomic_write_bytes, sha256_bytes, sha256_file
from loan_pipeline.transforms.segmentation.elbow import Elbow
from loan_pipeline.transforms.segmentation.kmeans import FINAL_N_INIT, RANDOM_STATE
from loan_pipeline.transforms.segmentation.model import model_features, model_k

# scikit-learn and joblib are imported inside the functions that save or load.
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


def model_bytes(bundle: dict) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(bundle, buffer)
    return buffer.getvalue()


def save_model(model: Pipeline, elbow: Elbow, path: Path, extra: dict | None = None) -> dict:
    """Save {model pipeline (imputer, scaler, k-means), features, k} with joblib, plus a JSON manifest
    `<path>.json` holding the sha256 of the joblib file. Returns the manifest."""
    import json

    import sklearn

    features = model_features(model)
    bundle = {"model": model, "features": features, "k": model_k(model), "max_k": elbow.max_k}
    data = model_bytes(bundle)
    manifest = {
        "file": Path(path).name,
        "sha256": sha256_bytes(data),
        "k": model_k(model),
        "elbow_k": elbow.k,
        "elbow_found": elbow.found,
        "max_k": elbow.max_k,
        "features": features,
        "fit_rows": elbow.n_rows,
        "inertia": float(model.named_steps["kmeans"].inertia_),
        "random_state": RANDOM_STATE,
        "n_init": FINAL_N_INIT,
        "sklearn_version": sklearn.__version__,
        **(extra or {}),
    }
    atomic_write_bytes(Path(path), data)
    atomic_write_bytes(manifest_path(path), (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def manifest_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def load_model(path: Path, verify: bool = True) -> dict:
    """Load a saved bundle; with `verify`, fail if the file does not match its manifest's sha256."""
    import json

    import joblib

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"segmentation model not found: {path}")
    if verify:
        manifest = json.loads(manifest_path(path).read_text())
        actual = sha256_file(path)
        if actual != manifest["sha256"]:
            raise ValueError(f"{path}: sha256 {actual} does not match its manifest ({manifest['sha256']})")
    return joblib.load(path)


def load_preprocessor(path: Path) -> dict:
    """{preprocessor, features} as saved by the cc_features asset."""
    import joblib

    return joblib.load(Path(path))
