"""`monitoring[M]` (drift + matured-label performance, one row per month) and `performance_dashboard`."""


import base64

import pandas as pd

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings, ModelStoreResource
from loan_pipeline.settings import GovernanceThresholds, LabelDefinition
from loan_pipeline.transforms import governance
from loan_pipeline.transforms.scoring import PREDICTION_COLUMNS
from loan_pipeline.transforms.monitoring import matured_cohort, monitoring_frame, monitoring_row

MOB = LabelDefinition().mob
# monitoring[M] reads predictions[M] (score drift) and predictions[M - mob] (the cohort maturing in M).
COHORT_AND_CURRENT = dg.TimeWindowPartitionMapping(start_offset=-MOB, end_offset=0, allow_nonexistent_upstream_partitions=True)


def cohort_month(month: str, mob: int) -> str:
    return (pd.Timestamp(month) - pd.DateOffset(months=mob)).strftime("%Y-%m-%d")


def governance_check_results(rows: list[dict], thresholds: GovernanceThresholds) -> list[dg.AssetCheckResult]:
    """The governance thresholds as check results: a check fails when any month of the run breaches it.
    Its metadata holds every month's outcome, and the last month's value, threshold, cohort size (and
    offending features) at the top; a month that cannot be evaluated says why (never a silent pass)."""
    outcomes = {row["monitoring_month"]: governance.check_outcomes(row, thresholds) for row in rows}
    results = []
    for check in governance.GOVERNANCE_CHECKS:
        per_month = {m: o[check] for m, o in sorted(outcomes.items())}
        failed = {m: o for m, o in per_month.items() if o.passed is False}
        evaluated = [m for m, o in per_month.items() if o.passed is not None]
        last_month, last = list(per_month.items())[-1]
        if failed:
            description = "breached in " + ", ".join(f"{m[:7]} ({o.value} vs {o.threshold})" for m, o in failed.items())
        elif evaluated:
            description = f"within the threshold in {len(evaluated)} month(s)" + (
                f"; not evaluable in {len(per_month) - len(evaluated)}" if len(evaluated) < len(per_month) else "")
        else:
            description = f"not evaluable: {last.reason}"
        top = {k: v if v is not None else "n/a" for k, v in last.as_metadata().items() if k != "features"}
        results.append(dg.AssetCheckResult(
            check_name=check, passed=not failed, description=description,
            metadata={
                **top, "month": last_month, "features": dg.MetadataValue.json(last.features),
                "months": dg.MetadataValue.json({m: o.as_metadata() for m, o in per_month.items()}),
            },
        ))
    return results


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep("predictions", partition_mapping=COHORT_AND_CURRENT),
        tables.GOLD_LABELS.name,
        tables.GOLD_FEATURES.name,
        "model",
    ],
    group_name="monitoring",
    kinds={"pandas", "parquet"},
    description="Per month: PSI of scores/features vs the champion's training reference, and performance of "
    "the cohort whose labels matured in the month (predictions[M-mob] joined to gold_labels[M]).",
    check_specs=[
        dg.AssetCheckSpec(name, asset="monitoring", description=text)
        for name, text in governance.check_descriptions(GovernanceThresholds()).items()
    ],
)
def monitoring(context: dg.AssetExecutionContext, pipeline_settings: LoanPipelineSettings, model_store: ModelStoreResource) -> dg.MaterializeResult:
    settings = pipeline_settings.get()
    mob = settings.label.mob
    store = model_store.get()
    months = sorted(context.partition_keys)
    cohorts = {m: cohort_month(m, mob) for m in months}
    preds = lake.read_months_pandas(settings.table(tables.PREDICTIONS), sorted(set(months) | set(cohorts.values())))
    preds = preds.reindex(columns=list(dict.fromkeys([*PREDICTION_COLUMNS, *preds.columns])))  # no predictions yet: empty, typed
    labels = lake.read_months_pandas(settings.table(tables.GOLD_LABELS), months)
    features = lake.read_months_pandas(settings.table(tables.GOLD_FEATURES), months)
    references: dict[str, dict] = {}
    rows = []
    for month in months:
        entry = store.month_entry(month) or {}
        version = entry.get("champion")
        if version and version not in references:
            references[version] = store.verify(version)["reference"]
        month_labels = labels[labels["month"] == month]
        cohort = matured_cohort(preds[preds["month"] == cohorts[month]], month_labels)
        row = monitoring_row(
            month, cohorts[month], version, references.get(version), features[features["month"] == month],
            preds[preds["month"] == month], cohort, len(month_labels), settings.thresholds,
        )
        rows.append(row)
        context.add_asset_metadata(
            {k: row[k] for k in ("model_version", "n_scored", "n_labels", "n_matched", "auc", "precision", "recall",
                                 "f1", "psi_score", "psi_feature_max", "breaches") if row[k] is not None},
            partition_key=month,
        )
    frame = monitoring_frame(rows)
    table = settings.table(tables.MONITORING)
    lake.write_months_pandas(frame, table, months)  # replaces exactly these months; history of others stays
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(table)), "dagster/row_count": len(frame)},
        check_results=governance_check_results(rows, settings.thresholds),
    )


@dg.asset(
    deps=["monitoring"],
    group_name="monitoring",
    kinds={"matplotlib"},
    description="The six performance charts over the whole monitoring history (PNG + per-chart CSV in reports/).",
)
def performance_dashboard(pipeline_settings: LoanPipelineSettings) -> dg.MaterializeResult:
    from loan_pipeline.transforms.dashboard import build_dashboard  # matplotlib only here

    settings = pipeline_settings.get()
    history = lake.read_months_pandas(settings.table(tables.MONITORING))
    matured = history[history["n_matched"] > 0] if len(history) else history
    if len(matured):
        preds = lake.read_months_pandas(settings.table(tables.PREDICTIONS), matured["cohort_month"].tolist())
        labels = lake.read_months_pandas(settings.table(tables.GOLD_LABELS), matured["monitoring_month"].tolist())
        cohort = matured_cohort(preds, labels)
    else:  # no matured cohort scored yet (e.g. before the first champion's loans reach mob 6): empty charts
        cohort = pd.DataFrame({"loan_id": [], "prediction_proba": [], "prediction": [], "label": []})
        matured = pd.DataFrame(columns=["monitoring_month", "cohort_month", "n_matched", "auc", "precision", "recall", "f1", "psi_score", "breaches"])
    summary = build_dashboard(cohort, matured, settings.reports, settings.thresholds.min_auc)
    png = open(summary["png"], "rb").read()
    return dg.MaterializeResult(
        metadata={
            "dashboard": dg.MetadataValue.md(f"![dashboard](data:image/png;base64,{base64.b64encode(png).decode()})"),
            "png": dg.MetadataValue.path(summary["png"]),
            "chart_data": dg.MetadataValue.path(summary["data_dir"]),
            "months_monitored": len(summary["months"]),
            "pooled_cohort_rows": summary["pooled_cohort_rows"],
            "pooled_auc": summary["pooled_auc"],
        }
    )
