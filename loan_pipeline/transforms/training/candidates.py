"""The candidate models of a training: one scikit-learn Pipeline per candidate (imputation, encoding,
scaling, estimator) fit on the train split only with every split scored, the seed-feature baseline
beside them, the best chosen on validation AUC, and its feature importances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from loan_pipeline.features import CATEGORICAL_FEATURES, MODEL_FEATURES, SEED_FEATURES
from loan_pipeline.transforms.training.policy import TrainingPolicy
from loan_pipeline.transforms.training.splits import SPLITS, SplitWindows, split_frames

# scikit-learn is imported inside the functions that fit or score a model, not when the Dagster
# definitions load (it costs seconds and the ingest runs never use it).
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

BASELINE = "baseline_seed_logreg"


def build_pipeline(estimator, features: Sequence[str]) -> Pipeline:
    """Imputation + one-hot encoding + scaling + estimator in one Pipeline, so whatever is fit on the
    train split travels with the model and is applied unchanged at scoring time."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [c for c in features if c in CATEGORICAL_FEATURES]
    numeric = [c for c in features if c not in CATEGORICAL_FEATURES]
    preprocess = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="__unknown__")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False)),
                    ]
                ),
                categorical,
            ),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def candidate_estimators(random_state: int = 42) -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    # Kept light on purpose: a training costs a few seconds on 2 cores (see benchmarks/bench_cycle.py).
    return {
        "logistic_regression": LogisticRegression(C=0.1, solver="newton-cholesky", max_iter=200),
        # Bootstrap half the rows per tree and cap the depth: ~1.4 s of CPU on 7.5k rows, same OOT AUC as
        # full trees. Two threads (alone: 1.33 -> 0.72 s), the same trees as one: each tree has its own seed.
        "random_forest": RandomForestClassifier(
            n_estimators=120, max_depth=8, min_samples_leaf=20, max_samples=0.5, max_features="sqrt", n_jobs=2,
            random_state=random_state,
        ),
        "gradient_boosting": HistGradientBoostingClassifier(
            learning_rate=0.1, max_iter=100, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
            early_stopping=False, random_state=random_state,
        ),
    }


def model_inputs(frame: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """Columns in catalogue order with the dtypes the pipeline expects (numerics float, categoricals object
    with NaN for unknown, so the imputer sees one missing marker)."""
    out = frame.reindex(columns=list(features))
    numeric = [c for c in features if c not in CATEGORICAL_FEATURES]
    categorical = [c for c in features if c in CATEGORICAL_FEATURES]
    not_float = [c for c in numeric if out[c].dtype != "float64"]
    if not_float:
        out[not_float] = out[not_float].apply(pd.to_numeric, errors="coerce").astype("float64")
    if categorical:
        cats = out[categorical].astype(object)
        out[categorical] = cats.where(cats.notna(), np.nan)
    return out


def safe_auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def choose_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    """Decision threshold maximising F1 on the validation split."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)[:-1]
    return float(thresholds[int(np.argmax(f1))]) if len(thresholds) else 0.5


@dataclass
class CandidateResult:
    name: str
    pipeline: Pipeline
    features: tuple[str, ...]
    auc: dict[str, float]
    threshold: float
    fit_seconds: float
    proba: dict[str, np.ndarray] = field(repr=False, default_factory=dict)


# Every fit runs at once: scikit-learn's tree and linear-algebra code releases the GIL for most of a
# fit, and the random forest (the longest fit) splits its trees over both cores. Measured on the real
# data (2-core machine, model[2025-08], 6 alternated rounds, preprocessing excluded): the three
# candidates side by side with the forest on one thread and the baseline after them 1.55 s; the
# forest on two threads and the baseline beside them 1.44 s.
CANDIDATE_WORKERS = 4


def fit_candidates(
    specs: dict[str, tuple[object, Sequence[str]]], X: dict[str, pd.DataFrame], y: dict[str, np.ndarray]
) -> list[CandidateResult]:
    """One Pipeline per `name: (estimator, features)`, fit on the train split only, every split scored.

    The preprocessing is identical for all estimators of a feature set, so it is fit ONCE per feature
    set on the train split and each Pipeline gets its own copy of that fitted step; each estimator then
    fits on the transformed train split. Same Pipelines as `Pipeline.fit` per candidate, a fraction of
    the work. The estimators are independent (each has its own random_state), so they fit concurrently
    and give the same models as one after another. `X` holds the prepared inputs per split (a superset
    of every feature set, selected by name). Results come back in the order of `specs`."""
    import copy
    import time
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    # One thread for OpenMP/BLAS: on a busy 2-core box, HistGradientBoosting's spinning OpenMP workers
    # made a 1 s fit take 25 s; single-threaded it stays ~1 s whatever else runs (Spark, other jobs).
    # OpenMP's limit is per thread, so every worker sets it again.
    prepared = {}
    with threadpool_limits(limits=1):
        for features in dict.fromkeys(tuple(f) for _, f in specs.values()):
            t0 = time.perf_counter()
            preprocess = build_pipeline(None, features).named_steps["preprocess"].fit(X["train"], y["train"])
            prepared[features] = (preprocess, {s: preprocess.transform(X[s]) for s in SPLITS}, time.perf_counter() - t0)

    def fit_one(name: str, estimator, features: Sequence[str]) -> CandidateResult:
        preprocess, Xt, shared_seconds = prepared[tuple(features)]
        with threadpool_limits(limits=1):
            t1 = time.perf_counter()
            estimator.fit(Xt["train"], y["train"])
            fit_seconds = shared_seconds + time.perf_counter() - t1
            pipe = Pipeline([("preprocess", copy.deepcopy(preprocess)), ("model", estimator)])
            proba = {s: estimator.predict_proba(Xt[s])[:, 1] for s in SPLITS}
        auc = {s: safe_auc(y[s], proba[s]) for s in SPLITS}
        threshold = choose_threshold(y["validation"], proba["validation"])
        return CandidateResult(name, pipe, tuple(features), auc, threshold, round(fit_seconds, 3), proba)

    with ThreadPoolExecutor(max_workers=CANDIDATE_WORKERS, thread_name_prefix="candidate") as pool:
        futures = [pool.submit(fit_one, name, estimator, features) for name, (estimator, features) in specs.items()]
        return [future.result() for future in futures]


def train_candidates(
    frame: pd.DataFrame,
    windows: SplitWindows,
    policy: TrainingPolicy,
    features: Sequence[str] = MODEL_FEATURES,
    baseline_features: Sequence[str] = SEED_FEATURES,
) -> tuple[list[CandidateResult], CandidateResult]:
    """Fit every candidate and the seed baseline on the same split. Returns (candidates, baseline)."""
    from sklearn.linear_model import LogisticRegression

    parts = split_frames(frame, windows)
    for s, part in parts.items():
        if part["label"].nunique() < 2:
            raise ValueError(f"split {s} ({windows.bounds()[s]}) has a single class; cannot train or evaluate")
    columns = list(dict.fromkeys([*features, *baseline_features]))
    X = {s: model_inputs(parts[s], columns) for s in SPLITS}  # prepared once, shared by every candidate
    y = {s: parts[s]["label"].to_numpy() for s in SPLITS}
    specs = {name: (estimator, features) for name, estimator in candidate_estimators(policy.random_state).items()}
    specs[BASELINE] = (LogisticRegression(max_iter=2000), baseline_features)
    *candidates, baseline = fit_candidates(specs, X, y)
    return candidates, baseline


def select_best(candidates: Sequence[CandidateResult]) -> CandidateResult:
    """Selection on validation AUC only (test and out-of-time are reported, never used to select)."""
    return max(candidates, key=lambda c: (c.auc["validation"], c.name))


def feature_importances(
    pipe: Pipeline, top: int = 15, X: pd.DataFrame | None = None, y: np.ndarray | None = None, max_rows: int = 500
) -> list[tuple[str, float]]:
    """Top features by the estimator's own importance: impurity (forests), |coef| (linear); an estimator
    without one (HistGradientBoosting) gets permutation importance (AUC drop) on up to `max_rows` rows of
    (X, y), the validation split."""
    model = pipe.named_steps["model"]
    names = list(pipe.named_steps["preprocess"].get_feature_names_out())
    if hasattr(model, "feature_importances_") or hasattr(model, "coef_"):
        values = np.asarray(model.feature_importances_ if hasattr(model, "feature_importances_") else np.abs(model.coef_)).ravel()
    elif X is not None and y is not None and len(np.unique(y)) == 2:
        from sklearn.metrics import roc_auc_score

        # Permute the preprocessed columns and score every permuted copy in ONE call of the estimator
        # (stacked): the pipeline's preprocessing and the estimator's per-call overhead run once, not
        # once per feature.
        rows = np.random.default_rng(0).permutation(len(X))[:max_rows]
        Xt = np.asarray(pipe[:-1].transform(X.iloc[rows]), dtype=float)
        yt, rng, n = y[rows], np.random.default_rng(1), len(rows)
        stacked = np.tile(Xt, (Xt.shape[1] + 1, 1))
        for j in range(Xt.shape[1]):
            block = slice((j + 1) * n, (j + 2) * n)
            stacked[block, j] = rng.permutation(Xt[:, j])
        proba = model.predict_proba(stacked)[:, 1]
        base = roc_auc_score(yt, proba[:n])
        values = np.array([base - roc_auc_score(yt, proba[(j + 1) * n:(j + 2) * n]) for j in range(Xt.shape[1])])
    else:
        return []
    order = np.argsort(values)[::-1][:top]
    return [(names[i], float(values[i])) for i in order]
