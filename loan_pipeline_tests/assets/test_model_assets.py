"""Model lifecycle assets with dg.materialize on a tmp home holding gold-like data, and the governance sensor.

These prove the time contract end to end: model[M] uses no label with label_month >= M, predictions[M] are
scored by model[M]'s champion trained on data that ended before M, monitoring[M] joins exactly
predictions[M-6] with gold_labels[M]; and a monitoring breach yields exactly one retrain request.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import dagster as dg
from loan_pipeline.partitions import range_tags

from loan_pipeline import lake, tables
from loan_pipeline.assets.models import model
from loan_pipeline.assets.monitoring import monitoring, performance_dashboard
from loan_pipeline.assets.predictions import predictions
from loan_pipeline.resources import LoanPipelineSettings, ModelStoreResource
from loan_pipeline.sensors import governance_sensor
from loan_pipeline.transforms import governance
from loan_pipeline.transforms.model_store import ModelStore
from loan_pipeline_tests.transforms.training.gold_frames import make_gold, month_keys

FIRST, LAST = "2024-09-01", "2025-07-01"
ASSETS = [model, predictions, monitoring, performance_dashboard]


def lifecycle_resources(settings: LoanPipelineSettings) -> dict:
    return {"pipeline_settings": settings, "model_store": ModelStoreResource(home=settings.home)}


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    """Gold-like data for loans applied 2023-01..2025-01 (labels 2023-07..2025-07) and ONE single-run backfill
    of model -> predictions -> monitoring -> dashboard over 2024-09..2025-07."""
    home = tmp_path_factory.mktemp("home")
    settings = LoanPipelineSettings(home=str(home))
    s = settings.get()
    features, labels = make_gold(first="2023-01-01", last="2025-01-01", per_month=80, shift_after="2024-12-01")
    all_months = month_keys("2023-01-01", "2025-07-01")
    lake.write_months_pandas(features, s.table(tables.GOLD_FEATURES), all_months)
    lake.write_months_pandas(labels, s.table(tables.GOLD_LABELS), all_months)
    instance = dg.DagsterInstance.local_temp(str(tmp_path_factory.mktemp("dagster_home")))
    result = dg.materialize(ASSETS, instance=instance, resources=lifecycle_resources(settings), tags=range_tags(FIRST, LAST))
    assert result.success
    yield {"settings": settings, "s": s, "instance": instance, "features": features, "labels": labels, "result": result}
    instance.dispose()


def test_model_chain_and_time_contract(lifecycle):
    s = lifecycle["s"]
    store = ModelStore(s.model_store)
    reg = store.registry()
    assert sorted(reg["months"]) == month_keys(FIRST, LAST)  # every month of the range in ONE run
    assert reg["months"]["2024-10-01"]["champion"] is None  # 15 labelled months < 16 minimum
    first = reg["months"]["2024-11-01"]
    assert first["champion"] == first["trained"]
    assert reg["months"]["2024-12-01"]["champion"] == first["champion"] and reg["months"]["2024-12-01"]["trained"] is None
    labels = lifecycle["labels"]
    for month, entry in reg["months"].items():
        if entry["trained"]:
            bundle = store.verify(entry["trained"])
            used = labels[labels["application_month"].isin(sum(bundle["windows"].values(), []))]
            assert used["label_month"].max() < month
    # per-partition metadata and the DataVersion = content hash of the champion
    mats = lifecycle["instance"].fetch_materializations(dg.AssetKey("model"), limit=100).records
    by_month = {r.partition_key: r.asset_materialization for r in mats}
    assert by_month["2024-11-01"].metadata["trained"].value == first["trained"]
    assert "candidates" in by_month["2024-11-01"].metadata and "roc_curve" in by_month["2024-11-01"].metadata
    assert by_month["2024-10-01"].metadata["champion"].value == "none"
    last_champion = reg["months"][LAST]["champion"]
    assert by_month[LAST].tags["dagster/data_version"] == reg["versions"][last_champion]["sha256"]


def test_predictions_scored_by_the_champion_in_force(lifecycle):
    s = lifecycle["s"]
    store = ModelStore(s.model_store)
    preds = lake.read_months_pandas(s.table(tables.PREDICTIONS))
    assert {"Customer_ID", "loan_id", "application_month", "model_version", "prediction_proba", "prediction"} <= set(preds.columns)
    assert set(preds["month"]) == {"2024-11-01", "2024-12-01", "2025-01-01"}  # champion from 2024-11; loans until 2025-01
    for month, part in preds.groupby("month"):
        version = store.champion_for(month)
        assert (part["model_version"] == version).all()
        bundle = store.read_bundle_metadata(version)
        assert bundle["model_month"] <= month and bundle["windows"]["oot"][-1] < month
        assert set(part["loan_id"]) == set(lifecycle["features"].query("month == @month")["loan_id"])
    assert lake.month_row_counts(s.table(tables.PREDICTIONS), ["2024-10-01"]) == {"2024-10-01": 0}


def test_monitoring_joins_predictions_six_months_back_with_labels_of_the_month(lifecycle):
    s = lifecycle["s"]
    mon = lake.read_months_pandas(s.table(tables.MONITORING))
    assert sorted(mon["monitoring_month"]) == month_keys(FIRST, LAST)  # one row per month
    preds = lake.read_months_pandas(s.table(tables.PREDICTIONS), ["2024-11-01"])
    labels = lifecycle["labels"].query("label_month == '2025-05-01'")
    joined = preds.merge(labels, on="loan_id")
    row = mon.set_index("monitoring_month").loc["2025-05-01"]
    assert row["cohort_month"] == "2024-11-01" and row["n_matched"] == len(joined) == 80
    assert row["auc"] == pytest.approx(roc_auc_score(joined["label"], joined["prediction_proba"]))
    assert mon.set_index("monitoring_month").loc["2025-04-01", "n_matched"] == 0  # predictions[2024-10] do not exist
    # drift: Interest_Rate shifted from 2024-12 on, so its PSI jumps against the training reference
    psi = {m: json.loads(r)["Interest_Rate"] for m, r in zip(mon["monitoring_month"], mon["feature_psi"]) if r != "{}"}
    assert psi["2024-11-01"] < 0.1 and psi["2024-12-01"] > 1.0
    assert "psi_feature" in mon.set_index("monitoring_month").loc["2024-12-01", "breaches"]
    dash = s.reports / "performance_dashboard.png"
    assert dash.exists() and json.loads((s.reports / "performance_dashboard.json").read_text())["pooled_cohort_rows"] == 240


def test_monitoring_history_is_kept_per_month(lifecycle):
    s = lifecycle["s"]
    table = s.table(tables.MONITORING)
    before = lake.read_months_pandas(table)
    files_before = {m: sorted(p.stat().st_mtime_ns for p in lake.month_dir(table, m).glob("*.parquet")) for m in before["month"]}
    result = dg.materialize([monitoring], instance=lifecycle["instance"], resources=lifecycle_resources(lifecycle["settings"]), partition_key="2025-06-01")
    assert result.success
    after = lake.read_months_pandas(table)
    pd.testing.assert_frame_equal(before.sort_values("month").reset_index(drop=True), after.sort_values("month").reset_index(drop=True))
    for m, mtimes in files_before.items():
        if m != "2025-06-01":
            assert sorted(p.stat().st_mtime_ns for p in lake.month_dir(table, m).glob("*.parquet")) == mtimes


def _copy_with_tampered_champion(lifecycle, tmp_path, month: str) -> tuple[LoanPipelineSettings, str]:
    """A copy of the lifecycle's home whose champion for `month` has a modified artefact."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(lifecycle["s"].home, home)
    settings = LoanPipelineSettings(home=str(home))
    store = ModelStore(settings.get().model_store)
    version = store.champion_for(month)
    assert version is not None
    artefact = store.bundle_dir(version) / "pipeline.joblib"
    artefact.write_bytes(artefact.read_bytes()[:-10] + b"0123456789")
    return settings, version


def test_tampered_champion_is_refused_by_predictions(lifecycle, tmp_path):
    settings, _ = _copy_with_tampered_champion(lifecycle, tmp_path, "2024-12-01")
    with dg.instance_for_test() as instance:
        result = dg.materialize([predictions], instance=instance, resources=lifecycle_resources(settings), partition_key="2024-12-01", raise_on_error=False)
    assert not result.success
    assert "refused: sha256" in str(result.all_events)


def _breaching_month(s) -> str:
    mon = lake.read_months_pandas(s.table(tables.MONITORING))
    breached = mon[mon["breaches"] != ""]
    assert len(breached), "the shifted Interest_Rate must breach the PSI threshold"
    return breached["monitoring_month"].min()


def test_sensor_requests_one_retrain_per_breach(lifecycle):
    s, instance = lifecycle["s"], lifecycle["instance"]
    resources = {"pipeline_settings": lifecycle["settings"]}
    ctx = dg.build_sensor_context(instance=instance, resources=resources)
    result = governance_sensor(ctx)
    requests = result.run_requests
    mon = lake.read_months_pandas(s.table(tables.MONITORING))
    expected = governance.retrain_requests(mon.to_dict("records"), s.thresholds)
    assert [r.run_key for r in requests] == [e["run_key"] for e in expected] and requests
    first = requests[0]
    month = _breaching_month(s)
    assert first.partition_key == month and first.run_key.startswith(f"retrain-{month}-")
    assert first.tags[governance.FORCE_RETRAIN_TAG] == "true"
    assert first.tags["loan_pipeline/reason"] and any(k.startswith("loan_pipeline/breach.") for k in first.tags)
    # evaluating again with the advanced cursor: nothing new, no duplicate
    again = governance_sensor(dg.build_sensor_context(instance=instance, resources=resources, cursor=result.cursor))
    assert isinstance(again, dg.SkipReason)
    # a fresh cursor (e.g. a reset sensor) yields the SAME stable run keys, which the daemon never launches twice
    ctx2 = dg.build_sensor_context(instance=instance, resources=resources)
    assert [r.run_key for r in governance_sensor(ctx2).run_requests] == [r.run_key for r in requests]


def test_sensor_ignores_months_without_breach(tmp_path):
    home = tmp_path / "home"
    settings = LoanPipelineSettings(home=str(home))
    s = settings.get()
    from loan_pipeline.transforms.monitoring import monitoring_frame

    row = {"monitoring_month": "2025-05-01", "cohort_month": "2024-11-01", "n_matched": 500, "auc": 0.82, "precision": 0.7,
           "recall": 0.6, "psi_score": 0.01, "psi_feature_max": 0.05, "breaches": ""}
    lake.write_months_pandas(monitoring_frame([row]), s.table(tables.MONITORING), ["2025-05-01"])
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("monitoring", partition="2025-05-01"))
        ctx = dg.build_sensor_context(instance=instance, resources={"pipeline_settings": settings})
        assert governance_sensor(ctx).run_requests == []


def test_monitoring_and_dashboard_before_any_prediction(tmp_path):
    settings = LoanPipelineSettings(home=str(tmp_path / "home"))
    s = settings.get()
    features, labels = make_gold(first="2023-01-01", last="2023-03-01", per_month=20)
    months = month_keys("2023-01-01", "2023-09-01")
    lake.write_months_pandas(features, s.table(tables.GOLD_FEATURES), months)
    lake.write_months_pandas(labels, s.table(tables.GOLD_LABELS), months)
    with dg.instance_for_test() as instance:
        result = dg.materialize(ASSETS, instance=instance, resources=lifecycle_resources(settings), tags=range_tags("2023-07-01", "2023-09-01"))
    assert result.success
    mon = lake.read_months_pandas(s.table(tables.MONITORING))
    assert list(mon["n_labels"]) == [20, 20, 20] and (mon["n_matched"] == 0).all() and (mon["breaches"] == "").all()
    assert (s.reports / "performance_dashboard.png").exists()


def test_a_month_without_applications_gets_empty_predictions_without_opening_the_model(lifecycle, tmp_path):
    # Loans were applied up to 2025-01; in 2025-03 there is a champion but nothing to score, so its
    # artefact is not unpickled (a tampered one is refused only where it would score: test above).
    settings, version = _copy_with_tampered_champion(lifecycle, tmp_path, "2025-03-01")
    with dg.instance_for_test() as instance:
        result = dg.materialize([predictions], instance=instance, resources=lifecycle_resources(settings), partition_key="2025-03-01")
        assert result.success
        metadata = instance.get_latest_materialization_event(dg.AssetKey("predictions")).asset_materialization.metadata
    assert metadata["rows"].value == 0 and metadata["model_version"].value == version
    written = lake.read_months_pandas(settings.get().table(tables.PREDICTIONS), ["2025-03-01"])
    scored = lake.read_months_pandas(lifecycle["s"].table(tables.PREDICTIONS), ["2024-12-01"])
    assert written.empty and len(scored) and list(written.columns) == list(scored.columns)


def test_governance_thresholds_are_checks_on_monitoring(lifecycle):
    """Every threshold is a check on `monitoring`, with the measured value, the threshold and the cohort in
    its metadata; the shifted Interest_Rate fails feature PSI; months without a champion say why."""
    s = lifecycle["s"]
    checks = {e.check_name: e for e in lifecycle["result"].get_asset_check_evaluations() if e.asset_key == dg.AssetKey("monitoring")}
    assert set(checks) == set(governance.GOVERNANCE_CHECKS)
    spec_descriptions = {spec.name: spec.description for spec in monitoring.check_specs}
    assert "0.7" in spec_descriptions["auc_above_minimum"] and "0.2" in spec_descriptions["feature_psi_below_maximum"]
    mon = lake.read_months_pandas(s.table(tables.MONITORING)).set_index("monitoring_month")
    feature = checks["feature_psi_below_maximum"]
    breached = [m for m in mon.index if "psi_feature" in mon.loc[m, "breaches"]]
    assert breached and not feature.passed
    months = feature.metadata["months"].value
    assert sorted(months) == list(mon.index)
    for m in breached:
        assert months[m]["status"] == "failed" and months[m]["value"] == round(mon.loc[m, "psi_feature_max"], 4)
        assert months[m]["threshold"] == 0.2 and months[m]["cohort"] == mon.loc[m, "n_scored"]
        above = {f: round(v, 4) for f, v in json.loads(mon.loc[m, "feature_psi"]).items() if v >= 0.2}
        assert months[m]["features"] == above and (m < "2024-12-01" or "Interest_Rate" in above)  # shifted from 2024-12
    # 2024-09 and 2024-10 have no champion yet (15 labelled months < 16): not evaluable, with the reason
    assert months["2024-09-01"] == {"status": "not evaluable", "value": None, "threshold": 0.2, "cohort": 0,
                                    "reason": "no champion in force for the month"}
    auc_months = checks["auc_above_minimum"].metadata["months"].value
    matured = mon[mon["n_matched"] >= governance.MIN_COHORT]
    for m, row in matured.iterrows():
        assert auc_months[m]["value"] == round(row["auc"], 4) and auc_months[m]["cohort"] == row["n_matched"]
    last = checks["auc_above_minimum"].metadata
    assert last["month"].value == LAST and last["threshold"].value == 0.7
