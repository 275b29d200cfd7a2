"""The credit-card segmentation assets (CC GENERAL layout, not partitioned):
cc_customers -> cc_features -> cc_elbow -> cc_kmeans_model -> cc_segments.
"""

import base64
import json
from dataclasses import asdict

import pandas as pd

import dagster as dg

from loan_pipeline.assets.segmentation.storage import GROUP, SegmentationPaths, read_upstream, write_json, write_parquet
from loan_pipeline.files import atomic_write_bytes
from loan_pipeline.resources import LoanPipelineSettings
from loan_pipeline.sources.cc_generator import CC_CUSTOMERS_FILE, CC_ID, CC_TEST_FILE
from loan_pipeline.transforms.segmentation.elbow import Elbow, compute_elbow
from loan_pipeline.transforms.segmentation.inputs import (
    DEFAULT_CC_FEATURES, SegmentationInputError, feature_matrix, load_cc_customers, load_cc_test,
)
from loan_pipeline.transforms.segmentation.kmeans import DEFAULT_MAX_K
from loan_pipeline.transforms.segmentation.model import (
    assign_segments, build_model, complete_rows, fit_kmeans, fit_preprocessor, outside_training_range, segment_profiles,
)
from loan_pipeline.transforms.segmentation.persistence import load_model, load_preprocessor, model_bytes, save_model
from loan_pipeline.transforms.segmentation.report import elbow_plot_png, markdown_table


def _png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    # The UI renders data-URI images in Markdown metadata; the PNG itself is saved under reports/.
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


@dg.asset(group_name=GROUP, kinds={"pandas"})
def cc_customers(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The CC GENERAL customers (`file.csv` in Settings.cc_data_dir), typed and validated."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    source = settings.cc_data_dir / CC_CUSTOMERS_FILE
    if not source.exists():
        raise SegmentationInputError(
            f"{source}: file not found; set LOAN_PIPELINE_CC_DATA_DIR to a CC GENERAL folder or generate the sample "
            f"with `python -m loan_pipeline.sources.cc_generator --out {settings.cc_data_dir}`"
        )
    df = load_cc_customers(source)
    ignored = df.attrs.get("ignored_columns", [])
    if ignored:
        context.log.warning(f"{source}: ignoring column(s) outside the CC GENERAL layout: {ignored}")
    write_parquet(df, paths.customers)
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
    features: list[str] = list(DEFAULT_CC_FEATURES)


@dg.asset(group_name=GROUP, deps=[cc_customers], kinds={"pandas", "scikitlearn"})
def cc_features(config: CCFeaturesConfig, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The segmentation features and the MinMax scaler (plus median imputer) fit on them.

    Missing values: customers with a blank in a selected feature are left out of fitting
    (`fit_row` False) and are segmented later with that feature's median over the fitting rows.
    """
    paths = SegmentationPaths.of(pipeline_settings.get())
    customers = pd.read_parquet(read_upstream(paths.customers, "cc_customers"))
    X = feature_matrix(customers, config.features, f"cc_customers ({paths.customers})")
    preprocessor = fit_preprocessor(X, f"cc_customers ({paths.customers})")
    fit_row = complete_rows(X)
    scaled = pd.DataFrame(preprocessor.transform(X), columns=[f"scaled_{c}" for c in X.columns], index=X.index)
    out = pd.concat([customers[[CC_ID]], X, scaled], axis=1).assign(fit_row=fit_row)
    write_parquet(out, paths.features)
    atomic_write_bytes(paths.preprocessor, model_bytes({"preprocessor": preprocessor, "features": list(X.columns)}))
    scaler = preprocessor.named_steps["scale"]
    ranges = pd.DataFrame({"feature": X.columns, "min": scaler.data_min_, "max": scaler.data_max_,
                           "median (imputes blanks)": preprocessor.named_steps["impute"].statistics_})
    return dg.MaterializeResult(
        metadata={
            "features": dg.MetadataValue.json(list(X.columns)),
            "fit_rows": int(fit_row.sum()),
            "rows_with_blanks": int((~fit_row).sum()),
            "missing_value_rule": "rows with a blank feature are not used to fit; they are segmented with the fitting rows' median",
            "scaling": dg.MetadataValue.md(markdown_table(ranges)),
            "path": dg.MetadataValue.path(str(paths.features)),
        }
    )


class CCElbowConfig(dg.Config):
    max_k: int = DEFAULT_MAX_K


@dg.asset(group_name=GROUP, deps=[cc_features], kinds={"scikitlearn", "matplotlib"})
def cc_elbow(config: CCElbowConfig, pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """SSE for k = 1..max_k and the elbow k found by kneed (convex, decreasing)."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    features = pd.read_parquet(read_upstream(paths.features, "cc_features"))
    scaled_columns = [c for c in features.columns if c.startswith("scaled_")]
    Xs = features.loc[features["fit_row"], scaled_columns].to_numpy(dtype="float64")
    source = f"{settings.cc_data_dir / CC_CUSTOMERS_FILE} (via {paths.features})"
    elbow = compute_elbow(Xs, config.max_k, source)
    write_json(asdict(elbow), paths.elbow)
    png = elbow_plot_png(elbow, f"CC customers: elbow at k = {elbow.k}", paths.elbow_png)
    curve = pd.DataFrame({"k": elbow.ks, "sse": elbow.sse})
    return dg.MaterializeResult(
        metadata={
            "elbow_k": elbow.k,
            "elbow_found": elbow.found,
            "max_k": elbow.max_k,
            "fit_rows": elbow.n_rows,
            "elbow_plot": _png_markdown(png, "SSE by k"),
            "elbow_plot_path": dg.MetadataValue.path(str(paths.elbow_png)),
            "sse_by_k": dg.MetadataValue.md(markdown_table(curve, "{:,.4f}")),
        }
    )


@dg.asset(group_name=GROUP, deps=[cc_elbow, cc_features], kinds={"scikitlearn"})
def cc_kmeans_model(pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """k-means fit AT the elbow k, saved with its imputer + scaler, feature list and k (joblib) and a
    JSON manifest with the file's sha256, under model_store/segmentation/."""
    paths = SegmentationPaths.of(pipeline_settings.get())
    elbow = Elbow(**json.loads(read_upstream(paths.elbow, "cc_elbow").read_text()))
    prep = load_preprocessor(read_upstream(paths.preprocessor, "cc_features"))
    features = pd.read_parquet(read_upstream(paths.features, "cc_features"))
    Xs = features.loc[features["fit_row"], [f"scaled_{c}" for c in prep["features"]]].to_numpy(dtype="float64")
    kmeans = fit_kmeans(Xs, elbow.k)
    model = build_model(prep["preprocessor"], kmeans)
    manifest = save_model(model, elbow, paths.model)
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


@dg.asset(group_name=GROUP, deps=[cc_kmeans_model, cc_customers], kinds={"pandas"})
def cc_segments(pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    """The segment of every customer and of every new customer in test.csv, plus segment profiles
    (size and mean of each feature in original units)."""
    settings = pipeline_settings.get()
    paths = SegmentationPaths.of(settings)
    bundle = load_model(read_upstream(paths.model, "cc_kmeans_model"))
    model, features = bundle["model"], bundle["features"]
    customers = pd.read_parquet(read_upstream(paths.customers, "cc_customers"))
    test_path = settings.cc_data_dir / CC_TEST_FILE
    test = load_cc_test(test_path, features)

    known = customers[[CC_ID, *features]].join(assign_segments(model, customers, str(paths.customers)))
    new = test.join(assign_segments(model, test, str(test_path)))
    new["outside_training_range"] = outside_training_range(model, test)
    rows = pd.concat([known.assign(source=CC_CUSTOMERS_FILE), new.assign(source=CC_TEST_FILE)], ignore_index=True)
    rows["outside_training_range"] = rows["outside_training_range"].apply(lambda v: v if isinstance(v, list) else [])
    write_parquet(rows, paths.segments)

    profiles = segment_profiles(customers[features].astype("float64"), known["segment"], bundle["k"])
    write_parquet(profiles, paths.profiles)
    profiles_md = markdown_table(profiles)
    new_md = markdown_table(new)
    report = (
        f"# Credit-card segments (k = {bundle['k']}, features {', '.join(features)})\n\n"
        f"## Profiles (means in original units)\n\n{profiles_md}\n\n## New customers ({CC_TEST_FILE})\n\n{new_md}\n"
    )
    atomic_write_bytes(paths.report, report.encode())
    return dg.MaterializeResult(
        metadata={
            "k": bundle["k"],
            "customers": len(known),
            "imputed_customers": int((known["n_imputed"] > 0).sum()),
            "profiles": dg.MetadataValue.md(profiles_md),
            "test_customers": dg.MetadataValue.md(new_md),
            "test_segments": dg.MetadataValue.json(dict(zip(new[CC_ID], new["segment"].astype(int).tolist()))),
            "path": dg.MetadataValue.path(str(paths.segments)),
            "report": dg.MetadataValue.path(str(paths.report)),
        }
    )
