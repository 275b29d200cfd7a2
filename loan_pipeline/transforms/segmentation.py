"""Customer segmentation: k-means with the number of segments chosen at the elbow of the SSE curve.

Plain functions (pandas / scikit-learn / matplotlib, no Dagster) shared by the credit-card
segmentation (CC GENERAL layout) and the monthly loan-book segmentation.

Rules, in the order they apply:

- Features are validated first: a missing column, a non-numeric value or a column with no value at
  all raises `SegmentationInputError` naming the source (file / table + month) and the column.
- Missing values: rows with a blank in any selected feature are *not* used to fit the scaler or the
  k-means model (imputing before fitting would pile customers on the median and drag centroids).
  They still get a segment: at assignment time a blank is replaced by that feature's median over
  the fitting rows (the median travels with the model), and `n_imputed` counts the replaced values.
- Scaling: MinMax, fit on the fitting rows, saved inside the model pipeline (imputer -> scaler ->
  k-means), so a saved model segments raw customers in original units.
- Elbow: SSE (k-means inertia) for k = 1..K in ONE sweep: for each k, a run warm-started from the
  best centres for k-1 plus one greedy k-means++ centre competes with one fresh k-means++ run, and
  the lower SSE wins. The warm start begins at or below SSE(k-1) and Lloyd never raises the SSE, so
  the curve is non-increasing by construction (independent single restarts per k are not; ten
  restarts per k are, in practice, but cost several times more). The elbow is
  `kneed.KneeLocator(curve="convex", direction="decreasing")`; if kneed finds none (flat or too short
  curve, e.g. K < 3), k = 1 and `found` is False.
- Final model: fit AT the elbow k with k-means++ and a fixed n_init / random_state (deterministic).
- Too few rows: the CC segmentation needs at least K fitting rows and raises otherwise; a monthly
  loan-book partition with fewer than K rows lowers K to n - 1 (k = n is the trivial zero-SSE
  solution, so it would only add a meaningless last point to the curve), and at least 1.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from loan_pipeline.files import atomic_write_bytes, sha256_bytes, sha256_file  # noqa: F401 (used by assets)
from loan_pipeline.sources.cc_generator import CC_COLUMNS, CC_CUSTOMERS_FILE, CC_ID, CC_INT_COLUMNS, CC_TEST_FILE

# scikit-learn, kneed, joblib and matplotlib are imported inside the functions that fit, save or plot,
# not when the Dagster definitions load (they cost seconds and the ingest runs never use them).
if TYPE_CHECKING:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

# --- the CC GENERAL layout (columns defined with the sample generator in sources/) ------------------

CC_NUMERIC_COLUMNS: tuple[str, ...] = tuple(c for c in CC_COLUMNS if c != CC_ID)
# The seed segmented on balance, spending and limit.
DEFAULT_CC_FEATURES: tuple[str, ...] = ("BALANCE", "PURCHASES", "CREDIT_LIMIT")

# Loan-book analogues of balance, spending and limit, all typed numerics in silver_financials:
# - Outstanding_Debt        ~ BALANCE      (what the customer owes)
# - Amount_invested_monthly ~ PURCHASES    (discretionary monthly outflow; Total_EMI_per_month is
#                                           not used: extreme values up to ~80k dominate MinMax)
# - Monthly_Inhand_Salary   ~ CREDIT_LIMIT (capacity; Annual_Income is not used: absurd values
#                                           up to ~24M in the extract would squash MinMax to ~0)
LOAN_BOOK_ID = "Customer_ID"
LOAN_BOOK_DATE = "snapshot_date"
DEFAULT_LOAN_BOOK_FEATURES: tuple[str, ...] = ("Outstanding_Debt", "Amount_invested_monthly", "Monthly_Inhand_Salary")

# --- k-means settings (fixed: same input -> same k, same model, same assignments) ---------------------

DEFAULT_MAX_K = 49  # as in the seed
RANDOM_STATE = 42
FINAL_N_INIT = 10
_LLOYD = dict(algorithm="lloyd", max_iter=300, tol=1e-4)


def single_threaded():
    """k-means on a few thousand rows x 3 features gains nothing from threads, and OpenMP threads on a
    busy 2-core machine (Spark next door) made the sweep 10-20x slower (measured), so run on one."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


class SegmentationInputError(ValueError):
    """Input that cannot be segmented; the message names the source (file/table) and the column."""


# --- loading and validation ------------------------------------------------------------------------


def _parse_numeric(raw: pd.Series, source: str, column: str, integer: bool = False) -> pd.Series:
    """Blank -> NaN; anything else must parse as a number (named with its file line on failure)."""
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    values = pd.to_numeric(text.mask(blank), errors="coerce")
    bad = values.isna() & ~blank
    if bad.any():
        examples = [f"line {i + 2}: {text[i]!r}" for i in text.index[bad][:3]]
        raise SegmentationInputError(f"{source}: column {column} has {int(bad.sum())} non-numeric values, e.g. {examples}")
    if integer:
        fractional = values.notna() & (values % 1 != 0)
        if fractional.any():
            examples = [f"line {i + 2}: {text[i]!r}" for i in text.index[fractional][:3]]
            raise SegmentationInputError(f"{source}: column {column} must hold whole numbers, got {examples}")
        return values.astype("Int64")
    return values.astype("float64")


def _read_csv_text(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SegmentationInputError(f"{path}: file not found")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise SegmentationInputError(f"{path}: file is empty (no header)") from exc


def load_cc_customers(path: Path) -> pd.DataFrame:
    """Read a CC GENERAL `file.csv`: the 18 columns typed (CUST_ID string, counts Int64, the rest float).

    Fails on a missing column, a blank or duplicated CUST_ID, a non-numeric value and a column with
    no value at all. Columns beyond the 18 are dropped (listed in `df.attrs["ignored_columns"]`).
    """
    path = Path(path)
    raw = _read_csv_text(path)
    missing = [c for c in CC_COLUMNS if c not in raw.columns]
    if missing:
        raise SegmentationInputError(f"{path}: missing column(s) {missing}; found {list(raw.columns)}")
    if raw.empty:
        raise SegmentationInputError(f"{path}: no customer rows")
    ids = raw[CC_ID].str.strip()
    if (ids == "").any():
        lines = [int(i) + 2 for i in ids.index[ids == ""][:3]]
        raise SegmentationInputError(f"{path}: column {CC_ID} is blank on line(s) {lines}")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise SegmentationInputError(f"{path}: column {CC_ID} has {len(duplicated)} duplicated ids, e.g. {duplicated.head(3).tolist()}")
    df = pd.DataFrame({CC_ID: ids.astype("string")})
    for column in CC_NUMERIC_COLUMNS:
        df[column] = _parse_numeric(raw[column], str(path), column, integer=column in CC_INT_COLUMNS)
        if df[column].isna().all():
            raise SegmentationInputError(f"{path}: column {column} is empty (no value in {len(df)} rows)")
    df.attrs["ignored_columns"] = [c for c in raw.columns if c not in CC_COLUMNS]
    return df


def load_cc_test(path: Path, features: Sequence[str]) -> pd.DataFrame:
    """Read a `test.csv` of new customers. It must hold exactly the model's feature columns (any order);
    rows get ids TEST-1, TEST-2, ... in file order."""
    path = Path(path)
    raw = _read_csv_text(path)
    columns = [c.strip() for c in raw.columns]
    missing = [f for f in features if f not in columns]
    extra = [c for c in columns if c not in features]
    if missing or extra:
        raise SegmentationInputError(
            f"{path}: columns must be exactly the model features {list(features)}; "
            f"missing {missing}, unexpected {extra}"
        )
    raw.columns = columns
    if raw.empty:
        raise SegmentationInputError(f"{path}: no customer rows")
    df = pd.DataFrame({CC_ID: pd.array([f"TEST-{i + 1}" for i in range(len(raw))], dtype="string")})
    for column in features:
        df[column] = _parse_numeric(raw[column], str(path), column)
    return df


def feature_matrix(df: pd.DataFrame, features: Sequence[str], source: str) -> pd.DataFrame:
    """The selected features as float columns, validated: present, numeric, not entirely empty."""
    features = list(features)
    if not features:
        raise SegmentationInputError(f"{source}: no feature selected")
    if len(set(features)) != len(features):
        raise SegmentationInputError(f"{source}: duplicated feature(s) in {features}")
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise SegmentationInputError(f"{source}: missing feature column(s) {missing}; available {list(df.columns)}")
    out = pd.DataFrame(index=df.index)
    for column in features:
        series = df[column]
        if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            raise SegmentationInputError(f"{source}: feature column {column} is not numeric (dtype {series.dtype})")
        out[column] = series.astype("float64")
        if len(out) and out[column].isna().all():
            raise SegmentationInputError(f"{source}: feature column {column} is empty (no value in {len(out)} rows)")
    return out


# --- preprocessing ---------------------------------------------------------------------------------


def complete_rows(X: pd.DataFrame) -> pd.Series:
    """Rows usable for fitting: no blank in any selected feature (see the module docstring)."""
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


# --- the elbow ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Elbow:
    ks: list[int]
    sse: list[float]
    k: int
    found: bool  # False when kneed found no elbow and k fell back to 1
    max_k: int
    requested_max_k: int
    n_rows: int


def effective_max_k(n_rows: int, max_k: int, source: str, reduce: bool) -> int:
    """K for the sweep. `reduce=False` (CC): fewer rows than K is an error. `reduce=True` (monthly
    loan book): K becomes n - 1, at least 1."""
    if max_k < 1:
        raise SegmentationInputError(f"{source}: max_k must be at least 1, got {max_k}")
    if n_rows < 1:
        raise SegmentationInputError(f"{source}: no row to segment")
    if n_rows >= max_k:
        return max_k
    if not reduce:
        raise SegmentationInputError(
            f"{source}: {n_rows} customers with all features, fewer than max_k={max_k} (k-means for k = 1..{max_k} "
            f"needs at least {max_k}); lower max_k or supply more customers"
        )
    return max(n_rows - 1, 1)


def _greedy_kmeanspp_center(X: np.ndarray, closest_d2: np.ndarray, rng: np.random.RandomState) -> int:
    """Index of the next centre: sklearn's greedy k-means++ step (best of a few D^2-weighted draws)."""
    total = closest_d2.sum()
    n_trials = 2 + int(math.log(max(len(X), 2)))
    candidates = np.searchsorted(np.cumsum(closest_d2), rng.random_sample(n_trials) * total)
    candidates = np.clip(candidates, 0, len(X) - 1)
    d2 = ((X[None, :, :] - X[candidates][:, None, :]) ** 2).sum(axis=2)
    potentials = np.minimum(closest_d2[None, :], d2).sum(axis=1)
    return int(candidates[int(np.argmin(potentials))])


def sse_sweep(X: np.ndarray, max_k: int, random_state: int = RANDOM_STATE) -> list[float]:
    """SSE for k = 1..max_k in one sweep; non-increasing by construction.

    For each k two Lloyd runs compete and the lower SSE is kept: one warm-started from the best
    centres for k-1 plus a greedy k-means++ centre (its start is already at or below SSE(k-1), and
    Lloyd never raises it), one fresh k-means++ start (so the sweep does not stay stuck in the basin
    an early k chose; warm starts alone moved the real data's elbow from 7 to 8).
    """
    from sklearn.cluster import KMeans

    rng = np.random.RandomState(random_state)
    centers = X.mean(axis=0, keepdims=True)
    sse = [float(((X - centers) ** 2).sum())]
    closest_d2 = ((X - centers) ** 2).sum(axis=1)
    with single_threaded():
        for k in range(2, max_k + 1):
            if closest_d2.sum() <= 1e-12 * sse[0]:
                # Every row sits on a centre (fewer distinct rows than k): more centres cannot help.
                sse.extend([0.0] * (max_k - k + 1))
                break
            new = _greedy_kmeanspp_center(X, closest_d2, rng)
            warm = KMeans(n_clusters=k, init=np.vstack([centers, X[new]]), n_init=1, **_LLOYD).fit(X)
            fresh = KMeans(n_clusters=k, init="k-means++", n_init=1, random_state=rng.randint(2**31 - 1), **_LLOYD).fit(X)
            best = warm if warm.inertia_ <= fresh.inertia_ else fresh
            centers = best.cluster_centers_
            sse.append(float(best.inertia_))
            # sklearn's final labels are the nearest centres, so this is each row's distance to its closest centre.
            closest_d2 = ((X - centers[best.labels_]) ** 2).sum(axis=1)
    return sse


def find_elbow(ks: Sequence[int], sse: Sequence[float]) -> tuple[int, bool]:
    """kneed's elbow of a convex, decreasing SSE curve; (1, False) when it finds none."""
    if len(ks) < 3:
        return 1, False
    from kneed import KneeLocator

    with warnings.catch_warnings():
        # kneed warns (and divides by zero on flat curves) when there is no elbow; we report that as found=False.
        warnings.simplefilter("ignore")
        elbow = KneeLocator(list(ks), list(sse), curve="convex", direction="decreasing").elbow
    if elbow is None:
        return 1, False
    return int(elbow), True


def compute_elbow(X: np.ndarray, max_k: int, source: str, reduce_k: bool = False) -> Elbow:
    k_max = effective_max_k(len(X), max_k, source, reduce=reduce_k)
    sse = sse_sweep(X, k_max)
    ks = list(range(1, k_max + 1))
    k, found = find_elbow(ks, sse)
    return Elbow(ks=ks, sse=sse, k=k, found=found, max_k=k_max, requested_max_k=max_k, n_rows=len(X))


# --- the model -------------------------------------------------------------------------------------


def fit_kmeans(X: np.ndarray, k: int, random_state: int = RANDOM_STATE, n_init: int = FINAL_N_INIT) -> KMeans:
    from sklearn.cluster import KMeans

    if len(X) < k:
        raise SegmentationInputError(f"cannot fit k={k} segments on {len(X)} rows")
    with single_threaded():
        return KMeans(n_clusters=k, n_init=n_init, random_state=random_state, **_LLOYD).fit(X)


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


# --- persistence -----------------------------------------------------------------------------------


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


def elbow_plot_png(elbow: Elbow, title: str, path: Path | None = None) -> bytes:
    """The SSE curve with the chosen k marked; returns PNG bytes (and writes them to `path` if given)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure without pyplot: no global state, safe in a multi-threaded executor.
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(elbow.ks, elbow.sse, marker="o", markersize=3, linewidth=1.2, color="#1f77b4")
    chosen_sse = elbow.sse[elbow.k - 1]
    label = f"elbow k = {elbow.k}" if elbow.found else f"no elbow found, k = {elbow.k}"
    ax.axvline(elbow.k, color="#d62728", linestyle="--", linewidth=1)
    ax.plot([elbow.k], [chosen_sse], marker="o", markersize=8, color="#d62728", label=label)
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("SSE (inertia, scaled features)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    if path is not None:
        atomic_write_bytes(Path(path), data)
    return data


# --- whole pipelines (used by the monthly asset and the benchmark) ----------------------------------


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


def month_rows(df: pd.DataFrame, month: str, source: str) -> pd.DataFrame:
    """The rows dated in `month` (YYYY-MM-01): the customers who applied in that month."""
    if LOAN_BOOK_DATE not in df.columns or LOAN_BOOK_ID not in df.columns:
        missing = [c for c in (LOAN_BOOK_ID, LOAN_BOOK_DATE) if c not in df.columns]
        raise SegmentationInputError(f"{source}: missing column(s) {missing}")
    dates = pd.to_datetime(df[LOAN_BOOK_DATE], errors="coerce")
    return df[dates.dt.to_period("M") == pd.Period(month, "M")].reset_index(drop=True)


def mask_flagged_out_of_range(rows: pd.DataFrame, features: Sequence[str], flags_column: str = "dq_flags") -> pd.DataFrame:
    """Silver keeps out-of-range values and flags them `<col>:out_of_range` in `dq_flags`; one absurd
    value would squash MinMax scaling for everybody, so a flagged feature value counts as missing
    (imputed, see the module doc). Frames without the flags column are returned unchanged."""
    if flags_column not in rows.columns or rows.empty:
        return rows
    flags = rows[flags_column].apply(lambda v: set() if v is None or (isinstance(v, float) and np.isnan(v)) else set(v))
    out = rows.copy()
    for column in features:
        if column in out.columns:
            flagged = flags.apply(lambda f, c=column: f"{c}:out_of_range" in f)
            out.loc[flagged.to_numpy(), column] = np.nan
    return out


def loan_book_segments_frame(rows: pd.DataFrame, seg: Segmentation | None, features: Sequence[str], month: str) -> pd.DataFrame:
    """The gold `customer_segments` rows of one month, with explicit Arrow types so an empty month
    writes the same Parquet schema as a full one."""
    import pyarrow as pa

    n = len(rows)
    if n and seg is None:
        raise ValueError(f"month {month}: {n} rows but no segmentation")
    ids = rows[LOAN_BOOK_ID].astype("string").tolist() if n else []
    dates = pd.to_datetime(rows[LOAN_BOOK_DATE]).dt.date.tolist() if n else []
    out = pd.DataFrame(
        {
            LOAN_BOOK_ID: pd.array(pa.array(ids, type=pa.string()), dtype=pd.ArrowDtype(pa.string())),
            LOAN_BOOK_DATE: pd.array(pa.array(dates, type=pa.date32()), dtype=pd.ArrowDtype(pa.date32())),
            "segment": (seg.assignments["segment"].to_numpy() if n else np.array([])).astype("int32"),
            "k": np.full(n, seg.elbow.k if n else 0, dtype="int32"),
            "n_imputed": (seg.assignments["n_imputed"].to_numpy() if n else np.array([])).astype("int32"),
        }
    )
    for column in features:
        out[column] = (rows[column].to_numpy(dtype="float64", na_value=np.nan) if n else np.array([], dtype="float64"))
    out["month"] = pd.array([month] * n, dtype=pd.ArrowDtype(pa.string()))
    return out


def markdown_table(df: pd.DataFrame, float_format: str = "{:,.2f}") -> str:
    """A small DataFrame as a Markdown table (no `tabulate` dependency)."""

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else float_format.format(v)
        if isinstance(v, (list, tuple)):
            return ", ".join(map(str, v))
        return str(v)

    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
