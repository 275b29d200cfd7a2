"""Asset jobs of the monthly cycle. Each job's partitions are its assets' `monthly_partitions`; a backfill
over a range runs as ONE run (the assets use BackfillPolicy.single_run and loop over context.partition_keys)."""

import dagster as dg


INGEST = dg.AssetSelection.groups("bronze", "silver", "gold")
MODEL = dg.AssetSelection.assets("model")
PREDICTIONS = dg.AssetSelection.assets("predictions")
MONITORING = dg.AssetSelection.assets("monitoring")
DASHBOARD = dg.AssetSelection.assets("performance_dashboard")

ingest_job = dg.define_asset_job(
    "ingest_job", selection=INGEST,
    description="Raw extracts -> bronze -> silver -> gold for the selected month(s).",
)
training_job = dg.define_asset_job(
    "training_job", selection=MODEL,
    description="model[M]: carry the champion forward or train a challenger (training policy in ModelConfig).",
)
inference_job = dg.define_asset_job(
    "inference_job", selection=PREDICTIONS,
    description="predictions[M] scored by the champion in force for M.",
)
monitoring_job = dg.define_asset_job(
    "monitoring_job", selection=MONITORING | DASHBOARD,
    description="monitoring[M] (drift + matured-label performance), then the dashboard over the whole history.",
)
# What the governance sensor launches: a forced retrain of model[M] (it must still beat the champion), then predictions[M].
retrain_job = dg.define_asset_job(
    "retrain_job", selection=MODEL | PREDICTIONS,
    description="Governance retrain of model[M] (forced; the champion rule still applies) and predictions[M].",
)
# The model lifecycle over a range in one run: model chain, scores, monitoring, dashboard.
lifecycle_job = dg.define_asset_job(
    "lifecycle_job", selection=MODEL | PREDICTIONS | MONITORING | DASHBOARD,
    description="model -> predictions -> monitoring -> performance_dashboard for the selected month(s).",
)
end_to_end_job = dg.define_asset_job(
    "end_to_end_job", selection=INGEST | MODEL | PREDICTIONS | MONITORING | DASHBOARD,
    description="The whole monthly cycle: bronze -> gold -> model -> predictions -> monitoring -> dashboard.",
)

all_jobs = [ingest_job, training_job, inference_job, monitoring_job, retrain_job, lifecycle_job, end_to_end_job]
