"""The model store: one versioned bundle per trained model and a registry of the champion per month.

Layout under `settings.model_store`:

    bundles/<version>/pipeline.joblib   the fitted sklearn Pipeline (preprocessing + estimator)
    bundles/<version>/bundle.json       threshold, features, data windows, metrics, library versions, sha256
    registry.json                        {"months": {month: entry}, "versions": {version: summary}}

A bundle is only unpickled after the sha256 of `pipeline.joblib` matches the hash recorded in the
registry (and in bundle.json): a file changed after it was written is refused, never loaded.
All writes go through a temp file + rename, so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from loan_pipeline.files import atomic_write_bytes, sha256_file


class BundleIntegrityError(RuntimeError):
    """A model bundle whose artefact does not match its recorded sha256."""


def library_versions() -> dict[str, str]:
    # joblib (and scikit-learn) are imported when a bundle is saved or loaded, not when the Dagster
    # definitions load.
    import joblib
    import numpy
    import pandas
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
    }


def _atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default).encode())


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


class ModelStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.registry_path = self.root / "registry.json"

    # ---- bundles -------------------------------------------------------------------------------

    def bundle_dir(self, version: str) -> Path:
        return self.root / "bundles" / version

    def save_bundle(self, pipeline, metadata: dict[str, Any], model_month: str) -> dict[str, Any]:
        """Write the pipeline and its metadata; the version is derived from the content hash, so
        saving the same fitted model twice yields the same version. Returns the bundle metadata."""
        import joblib

        staging = Path(tempfile.mkdtemp(dir=self._ensure(self.root / "bundles"), prefix=".staging-"))
        try:
            artefact = staging / "pipeline.joblib"
            joblib.dump(pipeline, artefact)
            sha = sha256_file(artefact)
            version = f"{model_month[:7]}-{sha[:12]}"
            bundle = {
                **metadata,
                "version": version,
                "model_month": model_month,
                "sha256": sha,
                "artefact": "pipeline.joblib",
                "library_versions": library_versions(),
            }
            _atomic_write_json(staging / "bundle.json", bundle)
            target = self.bundle_dir(version)
            if target.exists():  # identical content already stored (e.g. a re-run): keep the existing one
                return self.read_bundle_metadata(version)
            os.rename(staging, target)
            self._register_version(bundle)
            return bundle
        finally:
            if staging.exists():
                import shutil

                shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _ensure(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        return path

    def read_bundle_metadata(self, version: str) -> dict[str, Any]:
        path = self.bundle_dir(version) / "bundle.json"
        if not path.exists():
            raise FileNotFoundError(f"model bundle {version} not found under {self.bundle_dir(version)}")
        return json.loads(path.read_text())

    def verify(self, version: str) -> dict[str, Any]:
        """Check the artefact's sha256 against the registry and bundle.json; raise BundleIntegrityError."""
        meta = self.read_bundle_metadata(version)
        artefact = self.bundle_dir(version) / meta["artefact"]
        actual = sha256_file(artefact)
        recorded = self.registry()["versions"].get(version, {}).get("sha256", meta["sha256"])
        if actual != recorded or actual != meta["sha256"]:
            raise BundleIntegrityError(
                f"model bundle {version} refused: sha256 of {artefact} is {actual}, "
                f"recorded {recorded} (registry) / {meta['sha256']} (bundle.json); the artefact was modified "
                "after it was written — retrain or restore it"
            )
        return meta

    def load(self, version: str):
        """(pipeline, metadata) of a verified bundle. Nothing is unpickled before the hash matches."""
        import joblib

        meta = self.verify(version)
        return joblib.load(self.bundle_dir(version) / meta["artefact"]), meta

    # ---- registry ------------------------------------------------------------------------------

    def registry(self) -> dict[str, Any]:
        if not self.registry_path.exists():
            return {"months": {}, "versions": {}}
        return json.loads(self.registry_path.read_text())

    def _register_version(self, bundle: dict[str, Any]) -> None:
        reg = self.registry()
        reg["versions"][bundle["version"]] = {
            "sha256": bundle["sha256"],
            "model_month": bundle["model_month"],
            "data_end": bundle["windows"]["oot"][-1],
            "estimator": bundle["estimator"],
            "oot_auc": bundle["metrics"][bundle["estimator"]]["auc"]["oot"],
        }
        _atomic_write_json(self.registry_path, reg)

    def record_month(self, month: str, entry: dict[str, Any]) -> None:
        """Set the registry entry of model month `month` (champion in force, training and decision)."""
        reg = self.registry()
        reg["months"][month] = entry
        reg["months"] = dict(sorted(reg["months"].items()))
        _atomic_write_json(self.registry_path, reg)

    def month_entry(self, month: str) -> dict[str, Any] | None:
        return self.registry()["months"].get(month)

    def champion_before(self, month: str) -> dict[str, Any] | None:
        """The champion in force in the latest registered month before `month` (the chain's state):
        {"version", "trained_month", "data_end", "sha256"} or None."""
        reg = self.registry()
        earlier = [m for m in reg["months"] if m < month and reg["months"][m].get("champion")]
        if not earlier:
            return None
        version = reg["months"][max(earlier)]["champion"]
        info = reg["versions"][version]
        return {"version": version, "trained_month": info["model_month"], "data_end": info["data_end"], "sha256": info["sha256"]}

    def last_training_before(self, month: str) -> dict[str, Any] | None:
        """{"month", "version", "data_end"} of the latest training (promoted or not) before `month`."""
        reg = self.registry()
        trained = [m for m in reg["months"] if m < month and reg["months"][m].get("trained")]
        if not trained:
            return None
        version = reg["months"][max(trained)]["trained"]
        return {"month": max(trained), "version": version, "data_end": reg["versions"][version]["data_end"]}

    def champion_for(self, month: str) -> str | None:
        entry = self.month_entry(month)
        return entry.get("champion") if entry else None
