"""The whole segmentation of a frame (validate -> preprocess -> elbow -> final model -> every row's
segment and the profiles) and of a CC GENERAL folder (file.csv segmented, test.csv assigned); used by
the monthly asset and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from loan_pipeline.sources.cc_generator import CC_CUSTOMERS_FILE, CC_TEST_FILE
from loan_pipeline.transforms.segmentation.elbow import Elbow, compute_elbow
from loan_pipeline.transforms.segmentation.inputs import DEFAULT_CC_FEATURES, feature_matrix, load_cc_customers, load_cc_test
from loan_pipeline.transforms.segmentation.kmeans import DEFAULT_MAX_K
from loan_pipeline.transforms.segmentation.model import (
    assign_segments, build_model, fit_kmeans, fit_preprocessor, scaled_fit_matrix, segment_profiles,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


@dataclass
class Segmentation:
    features: list[str]
    elbow: Elbow
    model: Pipeline
    assignments: pd.DataFrame  # segment, n_imputed per input row (same index as the input)
    profiles: pd.DataFrame
    fit_rows: int
    extras: dict = field(default_factory=dict)


def segment_customers(
    df: pd.DataFrame, features: Sequence[str], max_k: int, source: str, reduce_k: bool = False
) -> Segmentation:
    """Validate -> preprocess -> elbow -> final model at the elbow k -> every row's segment + profiles."""
    X = feature_matrix(df, features, source)
    preprocessor = fit_preprocessor(X, source)
    Xs = scaled_fit_matrix(preprocessor, X)
    elbow = compute_elbow(Xs, max_k, source, reduce_k=reduce_k)
    model = build_model(preprocessor, fit_kmeans(Xs, elbow.k))
    assignments = assign_segments(model, df, source)
    profiles = segment_profiles(X, assignments["segment"], elbow.k)
    return Segmentation(list(features), elbow, model, assignments, profiles, fit_rows=len(Xs))


def run_cc_segmentation(cc_dir: Path, features: Sequence[str] = DEFAULT_CC_FEATURES, max_k: int = DEFAULT_MAX_K) -> Segmentation:
    """The whole CC segmentation in memory: file.csv segmented, test.csv customers assigned."""
    cc_dir = Path(cc_dir)
    customers = load_cc_customers(cc_dir / CC_CUSTOMERS_FILE)
    result = segment_customers(customers, features, max_k, str(cc_dir / CC_CUSTOMERS_FILE))
    test = load_cc_test(cc_dir / CC_TEST_FILE, features)
    result.extras["test"] = test.join(assign_segments(result.model, test, str(cc_dir / CC_TEST_FILE)))
    return result
