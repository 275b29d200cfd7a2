"""`predictions[M]`: loans applied in M scored by the champion in force for M (model[M], trained before M)."""


import pandas as pd

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings, ModelStoreResource
from loan_pipeline.transforms.scoring import empty_predictions, score


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["model", tables.GOLD_FEATURES.name],  # same month: model[M] and gold_features[M]
    group_name="models",
    kinds={"pandas", "parquet"},
    description="Scores of the loans applied in the month, by the champion in force for the month.",
)
def predictions(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings, model_store: ModelStoreResource) -> dg.MaterializeResult:
    settings = pipeline_settings.get()
    store = model_store.get()
    months = sorted(context.partition_keys)
    features = lake.read_months_pandas(settings.table(tables.GOLD_FEATURES), months)
    bundles: dict[str, dict] = {}  # each version's bundle.json, read once per run
    pipelines: dict[str, object] = {}  # verified + unpickled once per run, only when it has loans to score
    frames = []
    for month in months:
        entry = store.month_entry(month)
        if entry is None:
            raise RuntimeError(f"model[{month}] has not been materialized: materialize `model` for {month} first")
        version = entry.get("champion")
        if version is None:
            context.add_asset_metadata({"rows": 0, "model_version": "none (no champion in force)"}, partition_key=month)
            continue
        if version not in bundles:
            bundles[version] = store.read_bundle_metadata(version)
        bundle = bundles[version]
        # Time contract: the model of month M saw only labels observable before M.
        if not (bundle["labels_observed_before"] <= month and bundle["windows"]["oot"][-1] < month):
            raise RuntimeError(f"champion {version} for {month} was trained on data not available before {month}")
        applied = features[features["month"] == month]
        if applied.empty:
            # No application in the month (the newest months of a loan book): nothing is scored, so the
            # model is not unpickled (that, with scikit-learn's import, is a second of a one-month run).
            scored = empty_predictions()
        else:
            if version not in pipelines:
                pipelines[version] = store.load(version)[0]  # raises BundleIntegrityError on a tampered artefact
            scored = score(applied, month, pipelines[version], bundle)
        frames.append(scored.assign(month=month))
        context.add_asset_metadata(
            {
                "rows": len(scored),
                "model_version": version,
                "mean_proba": float(scored["prediction_proba"].mean()) if len(scored) else float("nan"),
                "predicted_default_rate": float(scored["prediction"].mean()) if len(scored) else float("nan"),
            },
            partition_key=month,
        )
    out = pd.concat(frames, ignore_index=True) if frames else empty_predictions().assign(month=pd.Series(dtype=object))
    table = settings.table(tables.PREDICTIONS)
    counts = lake.write_months_pandas(out, table, months)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(table)), "dagster/row_count": sum(counts.values())})
