"""Model training: temporal splits, one sklearn Pipeline per candidate, selection and promotion rules.

Plain functions (no Dagster). The time contract (DESIGN.md section 2) lives here:
- `labelled_frame` (`LabelledLoans.observable_before`) keeps only labels observable before the model
  month (label_month < M);
- `split_windows` cuts the labelled application months into train / validation / test / out-of-time,
  oldest to newest, never overlapping;
- every candidate is ONE Pipeline (imputation, encoding, scaling, estimator) fit on the train split only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from loan_pipeline.features import CATEGORICAL_FEATURES, MODEL_FEATURES, SEED_FEATURES

# scikit-learn is imported inside the functions that fit or score a model, not when the Dagster
# definitions load (it costs seconds and the ingest runs never use it).
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

SPLITS = ("train", "validation", "test", "oot")
BASELINE = "baseline_seed_logreg"


@dataclass(frozen=True)
class TrainingPolicy:
    """When to train and how to cut the labelled months. Defaults (months of application):

    - train at least 6 (all older labelled months, or at most `max_train_months` if set),
      validation 4, test 3, out-of-time 3: the first model needs 16 labelled application months;
    - retrain when the champion is `retrain_every_months` old (and new labels arrived since it was trained),
      or when forced (governance sensor / config);
    - a candidate replaces the champion only if its out-of-time AUC beats the champion's on the same
      window by at least `promotion_margin`.
    """

    min_train_months: int = 6
    max_train_months: int | None = None
    validation_months: int = 4
    test_months: int = 3
    oot_months: int = 3
    retrain_every_months: int = 3
    promotion_margin: float = 0.005
    random_state: int = 42

    @property
    def min_labelled_months(self) -> int:
        return self.min_train_months + self.validation_months + self.test_months + self.oot_months

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SplitWindows:
    """Application months (YYYY-MM-01) of each split, oldest to newest."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    oot: tuple[str, ...]

    def months(self, split: str) -> tuple[str, ...]:
        return getattr(self, split)

    def as_dict(self) -> dict[str, list[str]]:
        return {s: list(self.months(s)) for s in SPLITS}

    def bounds(self) -> dict[str, str]:
        return {s: f"{self.months(s)[0][:7]}..{self.months(s)[-1][:7]}" for s in SPLITS}


def months_between(earlier: str, later: str) -> int:
    a, b = pd.Timestamp(earlier), pd.Timestamp(later)
    return (b.year - a.year) * 12 + (b.month - a.month)


def labelled_frame(features: pd.DataFrame, labels: pd.DataFrame, model_month: str) -> pd.DataFrame:
    """Features of labelled loans joined to their label, using only labels observable before `model_month`."""
    return LabelledLoans(features, labels).observable_before(model_month)


class LabelledLoans:
    """Every labelled loan's features joined to its label, once; a model month then takes the labels
    observable before it. A chain of months (model[M] for many M in one run) would otherwise redo the
    join and sort for each month (~25 ms each on the CS611 data)."""

    def __init__(self, features: pd.DataFrame, labels: pd.DataFrame):
        joined = features.drop(columns=["month"], errors="ignore").merge(
            labels[["loan_id", "application_month", "label_month", "label"]], on="loan_id", how="inner"
        )
        self._joined = joined.sort_values(["application_month", "loan_id"], kind="stable").reset_index(drop=True)

    def observable_before(self, model_month: str) -> pd.DataFrame:
        """The labelled loans whose label was observable before `model_month` (label_month < M)."""
        return self._joined[self._joined["label_month"] < model_month].reset_index(drop=True)


def split_windows(labelled_months: Sequence[str], policy: TrainingPolicy) -> SplitWindows | None:
    """Newest months go to out-of-time, then test, then validation; the rest (oldest) train.
    None when there are not enough labelled months for the minimum windows."""
    months = sorted(set(labelled_months))
    if len(months) < policy.min_labelled_months:
        return None
    oot_start = len(months) - policy.oot_months
    test_start = oot_start - policy.test_months
    val_start = test_start - policy.validation_months
    train = months[:val_start]
    if policy.max_train_months:
        train = train[-policy.max_train_months:]
    return SplitWindows(
        train=tuple(train),
        validation=tuple(months[val_start:test_start]),
        test=tuple(months[test_start:oot_start]),
        oot=tuple(months[oot_start:]),
    )


@dataclass(frozen=True)
class TrainingDecision:
    train: bool
    reason: str


def should_train(
    model_month: str,
    champion: dict | None,
    windows: SplitWindows | None,
    policy: TrainingPolicy,
    forced: bool = False,
    last_training: dict | None = None,
) -> TrainingDecision:
    """`champion`: the champion in force before `model_month` ({"version", "trained_month", "data_end"}) or None.
    `last_training`: the latest training before `model_month` ({"month", "data_end"}), promoted or not — a
    challenger that lost still resets the clock, so a kept champion is not retrained every month."""
    if windows is None:
        return TrainingDecision(False, "not enough labelled months for the minimum train/validation/test/OOT windows")
    if forced:
        if last_training and windows.oot[-1] <= last_training["data_end"]:
            # Deterministic training on the same labelled data would reproduce the same model.
            return TrainingDecision(
                False, f"forced retrain skipped: no labels newer than the last training ({last_training['month'][:7]})"
            )
        return TrainingDecision(True, "forced retrain")
    if champion is None:
        return TrainingDecision(True, "no champion yet")
    last = last_training or {"month": champion["trained_month"], "data_end": champion["data_end"]}
    age = months_between(last["month"], model_month)
    if age < policy.retrain_every_months:
        return TrainingDecision(False, f"last training {last['month'][:7]} is {age} month(s) old (< {policy.retrain_every_months})")
    if windows.oot[-1] <= last["data_end"]:
        # Same labelled data as the last training: a retrain would reproduce it.
        return TrainingDecision(False, f"no labels newer than the last training's data (ends {last['data_end'][:7]})")
    return TrainingDecision(True, f"last training {last['month'][:7]} is {age} month(s) old (>= {policy.retrain_every_months})")


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


def import_model_libraries() -> None:
    """Import the scikit-learn modules a training uses (~1 s). For a caller with idle time before its
    first training: the cycle calls it in a background thread while Spark runs the ingest."""
    import sklearn.compose  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import threadpoolctl  # noqa: F401


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


def split_frames(frame: pd.DataFrame, windows: SplitWindows) -> dict[str, pd.DataFrame]:
    return {s: frame[frame["application_month"].isin(windows.months(s))] for s in SPLITS}


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


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger_oot_auc: float
    champion_oot_auc: float | None
    margin: float

    def as_dict(self) -> dict:
        return asdict(self)


def decide_promotion(challenger_oot_auc: float, champion_oot_auc: float | None, margin: float) -> PromotionDecision:
    """The challenger replaces the champion only if it beats it on the same out-of-time window by `margin`."""
    if champion_oot_auc is None:
        return PromotionDecision(True, "no champion yet", challenger_oot_auc, None, margin)
    if np.isnan(challenger_oot_auc):
        return PromotionDecision(False, "challenger OOT AUC undefined", challenger_oot_auc, champion_oot_auc, margin)
    if np.isnan(champion_oot_auc) or challenger_oot_auc >= champion_oot_auc + margin:
        return PromotionDecision(
            True,
            f"challenger OOT AUC {challenger_oot_auc:.4f} >= champion {champion_oot_auc:.4f} + margin {margin}",
            challenger_oot_auc, champion_oot_auc, margin,
        )
    return PromotionDecision(
        False,
        f"challenger OOT AUC {challenger_oot_auc:.4f} < champion {champion_oot_auc:.4f} + margin {margin}: champion kept",
        challenger_oot_auc, champion_oot_auc, margin,
    )


def feature_importances(
    pipe: Pipeline, top: int = 15, X: pd.DataFrame | None = None, y: np.ndarray | None = None, max_rows: int = 500
) -> list[tuple[str, float]]:
    """Top features by the estimator's own importance: impurity (forests), |coef| (linear), total split gain
    (HistGradientBoosting); any other estimator gets permutation importance (AUC drop) on up to `max_rows`
    rows of (X, y), the validation split."""
    model = pipe.named_steps["model"]
    names = list(pipe.named_steps["preprocess"].get_feature_names_out())
    if hasattr(model, "feature_importances_") or hasattr(model, "coef_"):
        values = np.asarray(model.feature_importances_ if hasattr(model, "feature_importances_") else np.abs(model.coef_)).ravel()
    elif hasattr(model, "_predictors"):
        # HistGradientBoosting: total split gain per feature over all trees (free, unlike permutation).
        values = np.zeros(len(names))
        for trees in model._predictors:
            for tree in trees:
                splits = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
                np.add.at(values, splits["feature_idx"], splits["gain"])
        values = values / values.sum() if values.sum() > 0 else values
    elif X is not None and y is not None and len(np.unique(y)) == 2:
        from sklearn.metrics import roc_auc_score
        from threadpoolctl import threadpool_limits

        # Permute the preprocessed columns and call only the estimator: the pipeline's preprocessing
        # would otherwise run once per feature.
        rows = np.random.default_rng(0).permutation(len(X))[:max_rows]
        Xt = np.asarray(pipe[:-1].transform(X.iloc[rows]), dtype=float)
        yt, rng = y[rows], np.random.default_rng(1)
        with threadpool_limits(limits=1):
            base = roc_auc_score(yt, model.predict_proba(Xt)[:, 1])
            values = np.zeros(Xt.shape[1])
            for j in range(Xt.shape[1]):
                saved = Xt[:, j].copy()
                Xt[:, j] = rng.permutation(saved)
                values[j] = base - roc_auc_score(yt, model.predict_proba(Xt)[:, 1])
                Xt[:, j] = saved
    else:
        return []
    order = np.argsort(values)[::-1][:top]
    return [(names[i], float(values[i])) for i in order]


# ---- one model month: train (if the policy says so), decide, register ------------------------------


def _threshold_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score

    pred = (proba >= threshold).astype(int)
    return {
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "n": int(len(y)),
        "default_rate": float(np.mean(y)) if len(y) else float("nan"),
    }


def _oot_auc(store, version: str, oot: pd.DataFrame) -> float:
    """AUC of a stored (hash-verified) model on an out-of-time frame."""
    from threadpoolctl import threadpool_limits

    pipe, meta = store.load(version)
    with threadpool_limits(limits=1):
        proba = pipe.predict_proba(model_inputs(oot, meta["features"]))[:, 1]
    return safe_auc(oot["label"].to_numpy(), proba)


def run_model_month(
    month: str,
    labelled: LabelledLoans,
    store,
    policy: TrainingPolicy,
    forced: bool = False,
    label_definition: str = "",
) -> dict:
    """Decide and record the champion in force for `month` (the `model[month]` partition).

    Uses only labels with label_month < month. Returns {"entry": registry entry, "training": details or None}.
    """
    from loan_pipeline.transforms.monitoring import reference_profile

    champion = store.champion_before(month)
    frame = labelled.observable_before(month)
    windows = split_windows(frame["application_month"].unique(), policy)
    prior = store.month_entry(month)  # set when model[month] is re-materialized (e.g. a governance retrain)
    last_training = store.last_training_before(month)
    if prior and prior.get("trained"):
        last_training = {"month": month, "version": prior["trained"], "data_end": store.registry()["versions"][prior["trained"]]["data_end"]}
    decision = should_train(month, champion, windows, policy, forced, last_training)
    if not decision.train and prior and prior.get("trained") and (forced or last_training["month"] == month):
        # Keep this month's own earlier training; if the champion before it changed since (a replay after a
        # governance retrain), re-decide the promotion against the new champion on the same OOT window.
        promotion_dict = prior.get("decision", {})
        champion_version = champion["version"] if champion else None
        if promotion_dict.get("champion_version", champion_version) != champion_version:
            challenger_meta = store.read_bundle_metadata(prior["trained"])
            oot = frame[frame["application_month"].isin(challenger_meta["windows"]["oot"])]
            champion_oot_auc = _oot_auc(store, champion_version, oot) if champion_version else None
            challenger_auc = challenger_meta["metrics"][challenger_meta["estimator"]]["auc"]["oot"]
            promotion_dict = {**decide_promotion(challenger_auc, champion_oot_auc, policy.promotion_margin).as_dict(), "champion_version": champion_version}
        kept = {
            **prior,
            "champion": prior["trained"] if promotion_dict.get("promote") else champion_version,
            "forced": forced,
            "decision": {**promotion_dict, "rerun_note": decision.reason},
        }
        store.record_month(month, kept)
        return {"entry": kept, "training": None}
    entry = {
        "champion": champion["version"] if champion else None,
        "trained": None,
        "training_reason": decision.reason,
        "labels_observed_before": month,
        "labelled_application_months": f"{windows.train[0][:7]}..{windows.oot[-1][:7]}" if windows else None,
        "forced": forced,
    }
    if not decision.train:
        entry["decision"] = {"promote": False, "reason": f"no training: {decision.reason}"}
        store.record_month(month, entry)
        return {"entry": entry, "training": None}

    candidates, baseline = train_candidates(frame, windows, policy)
    best = select_best(candidates)
    parts = split_frames(frame, windows)
    y = {s: parts[s]["label"].to_numpy() for s in SPLITS}

    champion_oot_auc = _oot_auc(store, champion["version"], parts["oot"]) if champion else None
    promotion = decide_promotion(best.auc["oot"], champion_oot_auc, policy.promotion_margin)

    metrics = {c.name: {"auc": c.auc, "fit_seconds": c.fit_seconds, "threshold": c.threshold} for c in [*candidates, baseline]}
    metrics[best.name]["at_threshold"] = {s: _threshold_metrics(y[s], best.proba[s], best.threshold) for s in SPLITS}
    train_inputs = model_inputs(parts["train"], best.features)
    bundle = store.save_bundle(
        best.pipeline,
        {
            "estimator": best.name,
            "features": list(best.features),
            "threshold": best.threshold,
            "windows": windows.as_dict(),
            "window_bounds": windows.bounds(),
            "labels_observed_before": month,
            "label_definition": label_definition,
            "metrics": metrics,
            "selected_on": "validation AUC",
            "baseline": BASELINE,
            "beats_baseline_oot": bool(best.auc["oot"] > baseline.auc["oot"]),
            "policy": policy.as_dict(),
            "promotion": promotion.as_dict(),
            "champion_before": champion["version"] if champion else None,
            "feature_importances": feature_importances(
                best.pipeline, X=model_inputs(parts["validation"], best.features), y=y["validation"]
            ),
            "reference": reference_profile(train_inputs, best.proba["train"], best.features),
            "split_rows": {s: int(len(parts[s])) for s in SPLITS},
        },
        month,
    )
    entry.update(
        champion=bundle["version"] if promotion.promote else entry["champion"],
        trained=bundle["version"],
        decision={**promotion.as_dict(), "champion_version": champion["version"] if champion else None},
    )
    store.record_month(month, entry)
    return {
        "entry": entry,
        "training": {
            "bundle": bundle,
            "candidates": candidates,
            "baseline": baseline,
            "best": best,
            "y": y,
            "promotion": promotion,
        },
    }
