"""The segmentation model: a median imputer and MinMax scaler fit on the complete rows, k-means fit at
the elbow k, and what the model says about customers: their segment, values outside the fitting
range, segment profiles and the stability between two months' models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError, feature_matrix
from loan_pipeline.transforms.segmentation.kmeans import FINAL_N_INIT, LLOYD, RANDOM_STATE, single_threaded

# scikit-learn is imported inside the functions that fit or score, not when the Dagster definitions
# load (it costs seconds and the ingest runs never use it).
if TYPE_CHECKING:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler


def complete_rows(X: pd.DataFrame) -> pd.Series:
    """Rows usable for fitting: no blank in any selected feature (see the package docstring)."""
    return X.notna().all(axis=1)


def fit_preprocessor(X: pd.DataFrame, source: str) -> Pipeline:
    """Median imputer + MinMax scaler fit on the complete rows only."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    fit_rows = X[complete_rows(X)]
    if fit_rows.empty:
        raise SegmentationInputError(f"{source}: no row has all features {list(X.columns)}")
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", MinMaxScaler())]).fit(fit_rows)


def scaled_fit_matrix(preprocessor: Pipeline, X: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(preprocessor.transform(X[complete_rows(X)]), dtype=np.float64)


def fit_kmeans(X: np.ndarray, k: int, random_state: int = RANDOM_STATE, n_init: int = FINAL_N_INIT) -> KMeans:
    from sklearn.cluster import KMeans

    if len(X) < k:
        raise SegmentationInputError(f"cannot fit k={k} segments on {len(X)} rows")
    with single_threaded():
        return KMeans(n_clusters=k, n_init=n_init, random_state=random_state, **LLOYD).fit(X)


def build_model(preprocessor: Pipeline, kmeans: KMeans) -> Pipeline:
    """imputer -> scaler -> k-means: `predict` takes raw customers (a DataFrame with the feature columns)."""
    from sklearn.pipeline import Pipeline

    return Pipeline([*preprocessor.steps, ("kmeans", kmeans)])


def model_features(model: Pipeline) -> list[str]:
    return [str(c) for c in model.named_steps["impute"].feature_names_in_]


def model_k(model: Pipeline) -> int:
    return int(model.named_steps["kmeans"].n_clusters)


def assign_segments(model: Pipeline, df: pd.DataFrame, source: str) -> pd.DataFrame:
    """segment (int) and n_imputed (blanks replaced by the training median) for every row of `df`."""
    features = model_features(model)
    X = feature_matrix(df, features, source) if len(df) else df.reindex(columns=features).astype("float64")
    if X.empty:
        return pd.DataFrame({"segment": pd.Series(dtype="int32"), "n_imputed": pd.Series(dtype="int32")}, index=df.index)
    labels = model.predict(X)
    return pd.DataFrame({"segment": labels.astype("int32"), "n_imputed": X.isna().sum(axis=1).astype("int32")}, index=df.index)


def outside_training_range(model: Pipeline, df: pd.DataFrame) -> pd.Series:
    """Feature values outside the [min, max] seen when fitting: the segment is an extrapolation."""
    scaler: MinMaxScaler = model.named_steps["scale"]
    X = df[model_features(model)].astype("float64")
    low = pd.Series(scaler.data_min_, index=X.columns)
    high = pd.Series(scaler.data_max_, index=X.columns)
    outside = X.lt(low) | X.gt(high)
    return outside.apply(lambda row: [c for c, v in row.items() if v], axis=1)


def segment_profiles(X: pd.DataFrame, segments: pd.Series, k: int) -> pd.DataFrame:
    """One row per segment: size, share and the mean of each feature in original units (observed
    values only, so imputed medians do not pull the means)."""
    frame = X.assign(segment=segments.to_numpy())
    grouped = frame.groupby("segment")
    profiles = pd.DataFrame({"segment": np.arange(k, dtype="int32")}).set_index("segment")
    profiles["customers"] = grouped.size().reindex(profiles.index, fill_value=0).astype("int64")
    profiles["share"] = profiles["customers"] / max(len(frame), 1)
    for column in X.columns:
        profiles[f"mean_{column}"] = grouped[column].mean().reindex(profiles.index)
    return profiles.reset_index()


def stability_ari(previous_model: Pipeline | None, model: Pipeline, df: pd.DataFrame, source: str) -> float | None:
    """Adjusted Rand index between this month's labels and the labels the previous month's model gives
    the same customers (months share no customers, so the comparison is made on this month's rows).
    1.0 = the previous model would have cut this month's customers the same way; ~0 = unrelated."""
    if previous_model is None or len(df) == 0:
        return None
    from sklearn.metrics import adjusted_rand_score

    if model_features(previous_model) != model_features(model):
        return None
    now = assign_segments(model, df, source)["segment"]
    before = assign_segments(previous_model, df, source)["segment"]
    return float(adjusted_rand_score(before, now))
