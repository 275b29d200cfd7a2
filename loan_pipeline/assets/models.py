"""`model[M]`: the champion in force for month M, trained (when the policy says so) on labels observable before M.

The asset is a self-dependent chain: model[M] starts from the champion of model[M-1] and either carries it
forward or trains a challenger that must beat it out of time. The chain's state is the registry on disk
(transforms/model_store.py), so a single-run backfill walks `context.partition_keys` in order in ONE run.
"""


import base64

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.partitions import monthly_partitions
from loan_pipeline.resources import LoanPipelineSettings, ModelStoreResource
from loan_pipeline.transforms import governance
from loan_pipeline.transforms.training.model_month import run_model_month
from loan_pipeline.transforms.training.policy import TrainingPolicy
from loan_pipeline.transforms.training.splits import SPLITS, LabelledLoans

# model[M] reads labels (and the features of labelled loans) of every month before M.
EARLIER_MONTHS = dg.TimeWindowPartitionMapping(
    start_offset=-len(monthly_partitions.get_partition_keys()), end_offset=-1, allow_nonexistent_upstream_partitions=True
)
PREVIOUS_MONTH = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True)


class ModelConfig(dg.Config):
    """Training policy (defaults in transforms/training/policy.py: TrainingPolicy)."""

    min_train_months: int = TrainingPolicy.min_train_months
    max_train_months: int = 0  # 0 = expanding window (all older labelled months)
    validation_months: int = TrainingPolicy.validation_months
    test_months: int = TrainingPolicy.test_months
    oot_months: int = TrainingPolicy.oot_months
    retrain_every_months: int = TrainingPolicy.retrain_every_months
    promotion_margin: float = TrainingPolicy.promotion_margin
    force_retrain: bool = False

    def policy(self) -> TrainingPolicy:
        return TrainingPolicy(
            min_train_months=self.min_train_months,
            max_train_months=self.max_train_months or None,
            validation_months=self.validation_months,
            test_months=self.test_months,
            oot_months=self.oot_months,
            retrain_every_months=self.retrain_every_months,
            promotion_margin=self.promotion_margin,
        )


def forced_months(context: dg.AssetExecutionContext, config: ModelConfig) -> set[str]:
    """Months to retrain regardless of the policy: all of the run's if configured, else the governance tag."""
    if config.force_retrain:
        return set(context.partition_keys)
    return governance.forced_months_from_tags(context.run.tags)


def _md_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def training_metadata(training: dict) -> dict:
    """UI metadata of one training: every candidate's AUC per split, ROC curves, top features, the decision."""
    bundle = training["bundle"]
    rows = [*training["candidates"], training["baseline"]]
    table = "| candidate | " + " | ".join(f"{s} AUC" for s in SPLITS) + " | fit s |\n|---|" + "---|" * (len(SPLITS) + 1) + "\n"
    for c in rows:
        mark = " (selected)" if c.name == training["best"].name else ""
        table += f"| {c.name}{mark} | " + " | ".join(f"{c.auc[s]:.4f}" for s in SPLITS) + f" | {c.fit_seconds:.2f} |\n"
    # scikit-learn and matplotlib are imported when a model is trained, not when the definitions load.
    from sklearn.metrics import roc_curve

    from loan_pipeline.transforms.dashboard import roc_png

    best, y = training["best"], training["y"]
    curves = {}
    for s in ("validation", "test", "oot"):
        fpr, tpr, _ = roc_curve(y[s], best.proba[s])
        curves[s] = (fpr, tpr, best.auc[s])
    importances = "| feature | importance |\n|---|---|\n" + "".join(
        f"| {name} | {value:.4f} |\n" for name, value in bundle["feature_importances"]
    )
    return {
        "candidates": dg.MetadataValue.md(table),
        "roc_curve": dg.MetadataValue.md(_md_image(roc_png(curves, f"{best.name} {bundle['version']}"), "ROC")),
        "top_features": dg.MetadataValue.md(importances or "(estimator exposes no importances)"),
        "promotion": dg.MetadataValue.json(training["promotion"].as_dict()),
        "trained_version": bundle["version"],
        "trained_sha256": bundle["sha256"],
        "windows": dg.MetadataValue.json(bundle["window_bounds"]),
        "decision_threshold": float(bundle["threshold"]),
        "beats_baseline_oot": bundle["beats_baseline_oot"],
    }


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep("model", partition_mapping=PREVIOUS_MONTH),
        dg.AssetDep(tables.GOLD_FEATURES.name, partition_mapping=EARLIER_MONTHS),
        dg.AssetDep(tables.GOLD_LABELS.name, partition_mapping=EARLIER_MONTHS),
    ],
    group_name="models",
    kinds={"sklearn"},
    description="Champion model in force for the month (trained on labels observable before it); registry + bundles.",
)
def model(context: dg.AssetExecutionContext, config: ModelConfig, pipeline_settings: LoanPipelineSettings, model_store: ModelStoreResource) -> dg.MaterializeResult:
    settings = pipeline_settings.get()
    store = model_store.get()
    policy = config.policy()
    months = sorted(context.partition_keys)  # the chain must advance oldest to newest
    # Read gold once per run; each month then filters to what was observable before it.
    features = lake.read_months_pandas(settings.table(tables.GOLD_FEATURES))
    features = features[features["month"] < months[-1]]
    labels = lake.read_months_pandas(settings.table(tables.GOLD_LABELS))
    labelled = LabelledLoans(features, labels)
    forced = forced_months(context, config)
    last_sha = None
    for month in months:
        result = run_model_month(month, labelled, store, policy, forced=month in forced, label_definition=settings.label.name)
        entry = result["entry"]
        champion = entry["champion"]
        sha = store.registry()["versions"][champion]["sha256"] if champion else None
        last_sha = sha
        metadata = {
            "champion": champion or "none",
            "champion_sha256": sha or "",
            "trained": entry["trained"] or "none",
            "training_reason": entry["training_reason"],
            "decision": entry["decision"]["reason"],
            "registry": dg.MetadataValue.path(str(store.registry_path)),
        }
        if result["training"]:
            metadata.update(training_metadata(result["training"]))
            context.log.info(f"model[{month}]: trained {entry['trained']}; {entry['decision']['reason']}")
        context.add_asset_metadata(metadata, partition_key=month)
    # The DataVersion is the content hash of the champion (of the range's last month in a backfill).
    return dg.MaterializeResult(data_version=dg.DataVersion(last_sha or "no-champion"))
