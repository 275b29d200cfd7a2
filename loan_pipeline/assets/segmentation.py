"""Customer segmentation assets: k-means with the number of segments at the kneed elbow.

Credit-card customers (CC GENERAL layout, not partitioned):
    cc_customers -> cc_features -> cc_elbow -> cc_kmeans_model -> cc_segments
Loan book (monthly): silver_financials[M] -> customer_segments[M]

Each asset writes its output as files under Settings.home and returns only metadata; the next asset
reads those files (no IO-manager pickles), so any asset can be re-run on its own in a fresh process
or container. The logic lives in loan_pipeline/transforms/segmentation.py.
"""

import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

import dagster as dg

from loan_pipeline.files import atomic_open

from loan_pipeline import lake
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.settings import Settings
from loan_pipeline.transforms import segmentation as seg

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


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path) as fh:
        df.to_parquet(fh, index=False)


def _write_json(obj: object, path: Path) -> None:
    seg.atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def _read_upstream(path: Path, asset: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: materialize {asset} first")
    return path


def _png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    # The UI renders data-URI images in Markdown metadata; the PNG itself is saved under reports/.
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


# --- credit-card customers ------------------------------------------------------------------------


@dg.asset(group_name=GROUP, kinds={"pandas"})
def cc_customers(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The CC GENERAL customers (`file.csv` in Settings.cc_data_dir), typed and validated."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    source = settings.cc_data_dir / seg.CC_CUSTOMERS_FILE
    if not source.exists():
        raise seg.SegmentationInputError(
            f"{source}: file not found; set LOAN_PIPELINE_CC_DATA_DIR to a CC GENERAL folder or generate the sample "
            f"with `python -m loan_pipeline.sources.cc_generator --out {settings.cc_data_dir}`"
        )
    df = seg.load_cc_customers(source)
    ignored = df.attrs.get("ignored_columns", [])
    if ignored:
        context.log.warning(f"{source}: ignoring column(s) outside the CC GENERAL layout: {ignored}")
    _write_parquet(df, paths.customers)
    blanks = {c: int(n) for c, n in df.isna().sum().items() if n}
    return dg.MaterializeResult(
        metadata={
            "source": dg.MetadataValue.path(str(source)),
            "path": dg.MetadataValue.path(str(paths.customers)),
            "dagster/row_count": len(df),
            "blank_values": dg.MetadataValue.json(blanks),
            "ignored_columns": dg.MetadataValue.json(ignored),
        }
    )


class CCFeaturesConfig(dg.Config):
    features: list[str] = list(seg.DEFAULT_CC_FEATURES)


@dg.asset(group_name=GROUP, deps=[cc_customers], kinds={"pandas", "scikitlearn"})
def cc_features(config: CCFeaturesConfig, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The segmentation features and the MinMax scaler (plus median imputer) fit on them.

    Missing values: customers with a blank in a selected feature are left out of fitting
    (`fit_row` False) and are segmented later with that feature's median over the fitting rows.
    """
    paths = SegmentationPaths.of(pipeline_settings.get())
    customers = pd.read_parquet(_read_upstream(paths.customers, "cc_customers"))
    X = seg.feature_matrix(customers, config.features, f"cc_customers ({paths.customers})")
    preprocessor = seg.fit_preprocessor(X, f"cc_customers ({paths.customers})")
    fit_row = seg.complete_rows(X)
    scaled = pd.DataFrame(preprocessor.transform(X), columns=[f"scaled_{c}" for c in X.columns], index=X.index)
    out = pd.concat([customers[[seg.CC_ID]], X, scaled], axis=1).assign(fit_row=fit_row)
    _write_parquet(out, paths.features)
    seg.atomic_write_bytes(paths.preprocessor, seg.model_bytes({"preprocessor": preprocessor, "features": list(X.columns)}))
    scaler = preprocessor.named_steps["scale"]
    ranges = pd.DataFrame({"feature": X.columns, "min": scaler.data_min_, "max": scaler.data_max_,
                           "median (imputes blanks)": preprocessor.named_steps["impute"].statistics_})
    return dg.MaterializeResult(
        metadata={
            "features": dg.MetadataValue.json(list(X.columns)),
            "fit_rows": int(fit_row.sum()),
            "rows_with_blanks": int((~fit_row).sum()),
            "missing_value_rule": "rows with a blank feature are not used to fit; they are segmented with the fitting rows' median",
            "scaling": dg.MetadataValue.md(seg.markdown_table(ranges)),
            "path": dg.MetadataValue.path(str(paths.features)),
        }
    )


class CCElbowConfig(dg.Config):
    max_k: int = seg.DEFAULT_MAX_K


@dg.asset(group_name=GROUP, deps=[cc_features], kinds={"scikitlearn", "matplotlib"})
def cc_elbow(config: CCElbowConfig, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """SSE for k = 1..max_k and the elbow k found by kneed (convex, decreasing)."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    features = pd.read_parquet(_read_upstream(paths.features, "cc_features"))
    scaled_columns = [c for c in features.columns if c.startswith("scaled_")]
    Xs = features.loc[features["fit_row"], scaled_columns].to_numpy(dtype="float64")
    source = f"{settings.cc_data_dir / seg.CC_CUSTOMERS_FILE} (via {paths.features})"
    elbow = seg.compute_elbow(Xs, config.max_k, source)
    _write_json(asdict(elbow), paths.elbow)
    png = seg.elbow_plot_png(elbow, f"CC customers: elbow at k = {elbow.k}", paths.elbow_png)
    curve = pd.DataFrame({"k": elbow.ks, "sse": elbow.sse})
    return dg.MaterializeResult(
        metadata={
            "elbow_k": elbow.k,
            "elbow_found": elbow.found,
            "max_k": elbow.max_k,
            "fit_rows": elbow.n_rows,
            "elbow_plot": _png_markdown(png, "SSE by k"),
            "elbow_plot_path": dg.MetadataValue.path(str(paths.elbow_png)),
            "sse_by_k": dg.MetadataValue.md(seg.markdown_table(curve, "{:,.4f}")),
        }
    )


@dg.asset(group_name=GROUP, deps=[cc_elbow, cc_features], kinds={"scikitlearn"})
def cc_kmeans_model(pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """k-means fit AT the elbow k, saved with its imputer + scaler, feature list and k (joblib) and a
    JSON manifest with the file's sha256, under model_store/segmentation/."""
    paths = SegmentationPaths.of(pipeline_settings.get())
    elbow = seg.Elbow(**json.loads(_read_upstream(paths.elbow, "cc_elbow").read_text()))
    prep = seg.load_preprocessor(_read_upstream(paths.preprocessor, "cc_features"))
    features = pd.read_parquet(_read_upstream(paths.features, "cc_features"))
    Xs = features.loc[features["fit_row"], [f"scaled_{c}" for c in prep["features"]]].to_numpy(dtype="float64")
    kmeans = seg.fit_kmeans(Xs, elbow.k)
    model = seg.build_model(prep["preprocessor"], kmeans)
    manifest = seg.save_model(model, elbow, paths.model)
    return dg.MaterializeResult(
        metadata={
            "k": manifest["k"],
            "features": dg.MetadataValue.json(manifest["features"]),
            "inertia": manifest["inertia"],
            "sha256": manifest["sha256"],
            "path": dg.MetadataValue.path(str(paths.model)),
            "manifest": dg.MetadataValue.json(manifest),
        }
    )


@dg.asset_check(asset=cc_kmeans_model, description="The saved model is the one in its manifest and has the elbow's k.")
def cc_kmeans_model_matches_elbow(pipeline_settings: LoanPipelineSettings) -> dg.AssetCheckResult:
    paths = SegmentationPaths.of(pipeline_settings.get())
    manifest = json.loads(seg.manifest_path(paths.model).read_text())
    elbow = json.loads(paths.elbow.read_text())
    sha = seg.sha256_file(paths.model)
    bundle = seg.load_model(paths.model, verify=False)
    model_k = seg.model_k(bundle["model"])
    return dg.AssetCheckResult(
        passed=bool(sha == manifest["sha256"] and model_k == manifest["k"] == elbow["k"]),
        metadata={"elbow_k": elbow["k"], "model_k": model_k, "manifest_k": manifest["k"], "sha256_matches": sha == manifest["sha256"]},
    )


@dg.asset(group_name=GROUP, deps=[cc_kmeans_model, cc_customers], kinds={"pandas"})
def cc_segments(pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The segment of every customer and of every new customer in test.csv, plus segment profiles
    (size and mean of each feature in original units)."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    bundle = seg.load_model(_read_upstream(paths.model, "cc_kmeans_model"))
    model, features = bundle["model"], bundle["features"]
    customers = pd.read_parquet(_read_upstream(paths.customers, "cc_customers"))
    test_path = settings.cc_data_dir / seg.CC_TEST_FILE
    test = seg.load_cc_test(test_path, features)

    known = customers[[seg.CC_ID, *features]].join(seg.assign_segments(model, customers, str(paths.customers)))
    new = test.join(seg.assign_segments(model, test, str(test_path)))
    new["outside_training_range"] = seg.outside_training_range(model, test)
    rows = pd.concat([known.assign(source=seg.CC_CUSTOMERS_FILE), new.assign(source=seg.CC_TEST_FILE)], ignore_index=True)
    rows["outside_training_range"] = rows["outside_training_range"].apply(lambda v: v if isinstance(v, list) else [])
    _write_parquet(rows, paths.segments)

    profiles = seg.segment_profiles(customers[features].astype("float64"), known["segment"], bundle["k"])
    _write_parquet(profiles, paths.profiles)
    profiles_md = seg.markdown_table(profiles)
    new_md = seg.markdown_table(new)
    report = (
        f"# Credit-card segments (k = {bundle['k']}, features {', '.join(features)})\n\n"
        f"## Profiles (means in original units)\n\n{profiles_md}\n\n## New customers ({seg.CC_TEST_FILE})\n\n{new_md}\n"
    )
    seg.atomic_write_bytes(paths.report, report.encode())
    return dg.MaterializeResult(
        metadata={
            "k": bundle["k"],
            "customers": len(known),
            "imputed_customers": int((known["n_imputed"] > 0).sum()),
            "profiles": dg.MetadataValue.md(profiles_md),
            "test_customers": dg.MetadataValue.md(new_md),
            "test_segments": dg.MetadataValue.json(dict(zip(new[seg.CC_ID], new["segment"].astype(int).tolist()))),
            "path": dg.MetadataValue.path(str(paths.segments)),
            "report": dg.MetadataValue.path(str(paths.report)),
        }
    )


@dg.asset_check(asset=cc_segments, description="Every customer (file.csv and test.csv) has a segment in 0..k-1 and no segment is empty.")
def cc_segments_complete(pipeline_settings: LoanPipelineSettings) -> dg.AssetCheckResult:
    paths = SegmentationPaths.of(pipeline_settings.get())
    rows = pd.read_parquet(paths.segments)
    k = json.loads(seg.manifest_path(paths.model).read_text())["k"]
    known = rows[rows["source"] == seg.CC_CUSTOMERS_FILE]
    bad = int((rows["segment"].isna() | (rows["segment"] < 0) | (rows["segment"] >= k)).sum())
    empty = sorted(set(range(k)) - set(known["segment"].astype(int)))
    return dg.AssetCheckResult(
        passed=bad == 0 and not empty,
        metadata={"rows": len(rows), "rows_without_valid_segment": bad, "empty_segments": dg.MetadataValue.json(empty)},
    )


# --- loan book, monthly ---------------------------------------------------------------------------


class CustomerSegmentsConfig(dg.Config):
    # Loan-book analogues of balance, spending and limit (why these: transforms/segmentation.py).
    features: list[str] = list(seg.DEFAULT_LOAN_BOOK_FEATURES)
    max_k: int = seg.DEFAULT_MAX_K


def _segment_month(silver: Path, month: str, config: CustomerSegmentsConfig) -> tuple[pd.DataFrame, seg.Segmentation | None]:
    """The silver rows dated in `month` and their segmentation (None for an empty month)."""
    source = f"silver_financials ({silver}) month {month}"
    if month not in lake.available_months(silver):
        raise FileNotFoundError(f"{source}: partition not found; materialize silver_financials for {month} first")
    rows = seg.month_rows(lake.read_months_pandas(silver, months=[month]), month, source)
    rows = seg.mask_flagged_out_of_range(rows, config.features)
    if rows.empty:
        return rows, None
    return rows, seg.segment_customers(rows, config.features, config.max_k, source, reduce_k=True)


def _previous_month(month: str) -> str:
    return (pd.Timestamp(month) - pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d")


@dg.asset(
    group_name=GROUP,
    partitions_def=monthly_partitions,
    deps=[dg.AssetDep("silver_financials")],
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"pandas", "scikitlearn", "parquet"},
)
def customer_segments(
    context: dg.AssetExecutionContext, config: CustomerSegmentsConfig, pipeline_settings: LoanPipelineSettings
) -> dg.MaterializeResult:
    """Month M = the customers who applied in M (silver_financials rows dated in M), segmented with the
    credit-card code on loan-book features; elbow per month; profiles; stability vs the previous month.

    Stability: months share no customers, so this month's customers are also assigned by the previous
    month's model and the adjusted Rand index between the two labelings is reported (1 = same cut).
    The previous month's model is refit from silver_financials[M-1] (deterministic, so identical to
    customer_segments[M-1]); it is null when that partition is absent or empty.
    """
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    silver = settings.table_path("silver", "silver_financials")
    months = sorted(context.partition_keys)
    frames, summary = [], []
    previous: tuple[str, seg.Segmentation | None] | None = None
    for month in months:
        rows, result = _segment_month(silver, month, config)
        prev_month = _previous_month(month)
        if previous is None or previous[0] != prev_month:
            previous = (prev_month, None)
            if prev_month in lake.available_months(silver):
                try:
                    previous = (prev_month, _segment_month(silver, prev_month, config)[1])
                except seg.SegmentationInputError as exc:
                    context.log.warning(f"no stability for {month}: previous month cannot be segmented: {exc}")
        prev_model = previous[1].model if previous[1] is not None else None
        ari = seg.stability_ari(prev_model, result.model, rows, month) if result is not None else None
        frames.append(seg.loan_book_segments_frame(rows, result, config.features, month))
        entry = {"month": month, "customers": len(rows), "max_k": None, "k": None, "elbow_found": None, "ari_vs_previous": ari}
        if result is not None:
            manifest = seg.save_model(result.model, result.elbow, paths.monthly_model(month), {"month": month})
            entry.update(max_k=result.elbow.max_k, k=result.elbow.k, elbow_found=result.elbow.found)
            entry.update(model_sha256=manifest["sha256"], elbow=asdict(result.elbow), profiles=result.profiles.to_dict(orient="records"))
            if result.elbow.max_k < config.max_k:
                context.log.info(f"{month}: {result.fit_rows} customers with all features, K lowered to {result.elbow.max_k}")
        _write_json({**entry, "features": config.features}, paths.monthly_report(month))
        summary.append({c: entry[c] for c in ("month", "customers", "max_k", "k", "elbow_found", "ari_vs_previous")})
        previous = (month, result)
    counts = lake.write_months_pandas(pd.concat(frames, ignore_index=True), settings.table_path("gold", "customer_segments"), months)
    table = pd.DataFrame(summary, dtype=object)  # object: ints stay ints next to the None of empty months
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(sum(counts.values())),
            "months": dg.MetadataValue.md(seg.markdown_table(table, "{:.3f}")),
            "features": dg.MetadataValue.json(config.features),
            "path": dg.MetadataValue.path(str(settings.table_path("gold", "customer_segments"))),
        }
    )


segmentation_assets = [cc_customers, cc_features, cc_elbow, cc_kmeans_model, cc_segments, customer_segments]
segmentation_checks = [cc_kmeans_model_matches_elbow, cc_segments_complete]
