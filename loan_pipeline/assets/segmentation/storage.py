"""What the segmentation assets share: their asset group, where each output lives under Settings.home
(`SegmentationPaths`), and the helpers that write and read those files (files rather than IO-manager
pickles, so any asset can be re-run on its own: see the package docstring).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loan_pipeline.files import atomic_open, atomic_write_bytes
from loan_pipeline.settings import Settings

GROUP = "segmentation"


@dataclass(frozen=True)
class SegmentationPaths:
    """Where every segmentation output lives under Settings.home."""

    customers: Path
    features: Path
    preprocessor: Path
    elbow: Path
    elbow_png: Path
    model: Path
    segments: Path
    profiles: Path
    report: Path
    monthly_models: Path
    monthly_reports: Path

    @classmethod
    def of(cls, settings: Settings) -> "SegmentationPaths":
        data = settings.datamart / "segmentation"
        reports = settings.reports / "segmentation"
        models = settings.model_store / "segmentation"
        return cls(
            customers=data / "cc_customers.parquet",
            features=data / "cc_features.parquet",
            preprocessor=data / "cc_features_preprocessor.joblib",
            elbow=data / "cc_elbow.json",
            elbow_png=reports / "cc_elbow.png",
            model=models / "cc_kmeans.joblib",
            segments=data / "cc_segments.parquet",
            profiles=data / "cc_segment_profiles.parquet",
            report=reports / "cc_segments.md",
            monthly_models=models / "customer_segments",
            monthly_reports=reports / "customer_segments",
        )

    def monthly_model(self, month: str) -> Path:
        return self.monthly_models / f"month={month}.joblib"

    def monthly_report(self, month: str) -> Path:
        return self.monthly_reports / f"month={month}.json"


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path) as fh:
        df.to_parquet(fh, index=False)


def write_json(obj: object, path: Path) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def read_upstream(path: Path, asset: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: materialize {asset} first")
    return path
