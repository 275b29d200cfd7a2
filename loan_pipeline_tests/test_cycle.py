"""End to end on the real CS611 extract: `python -m loan_pipeline.cycle` on a fresh home and Dagster instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from PIL import Image

from loan_pipeline import lake, tables
from loan_pipeline.settings import PROJECT_ROOT, load_settings
from loan_pipeline.transforms.model_store import ModelStore
from loan_pipeline.transforms.training.candidates import BASELINE
from loan_pipeline.transforms.training.splits import SPLITS

pytestmark = pytest.mark.slow


def _instance(env: dict[str, str]) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])


@pytest.fixture(scope="module")
def cycle_run(cs611_dir, tmp_path_factory):
    home = tmp_path_factory.mktemp("cycle_home")
    env = {**os.environ, "LOAN_PIPELINE_DATA_DIR": str(cs611_dir), "LOAN_PIPELINE_HOME": str(home / "lake"),
           "DAGSTER_HOME": str(home / "dagster_home"), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("LOAN_PIPELINE_END", None), env.pop("LOAN_PIPELINE_START", None)
    (home / "dagster_home").mkdir()
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    summary = home / "summary.json"
    proc = subprocess.run([sys.executable, "-m", "loan_pipeline.cycle", "--json", str(summary)], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    settings = load_settings(env)
    return {"stdout": proc.stdout, "stderr": proc.stderr, "summary": json.loads(summary.read_text()), "settings": settings, "env": env}


def test_monitoring_has_a_row_for_every_month_with_matured_labels(cycle_run):
    s = cycle_run["settings"]
    labels = lake.read_months_pandas(s.table(tables.GOLD_LABELS), columns=["loan_id"])
    matured = sorted(labels["month"].unique())
    assert matured[0] == "2023-07-01" and matured[-1] == "2025-07-01"
    mon = lake.read_months_pandas(s.table(tables.MONITORING)).set_index("monitoring_month")
    assert set(matured) <= set(mon.index)
    assert (mon.loc[matured, "n_labels"] > 0).all()
    # performance is measured wherever the matured cohort was scored (champion from 2024-11: labels 2025-05..07)
    scored = mon[mon["n_matched"] > 0]
    assert list(scored.index) == ["2025-05-01", "2025-06-01", "2025-07-01"]
    assert (scored["auc"] > 0.70).all()


def test_the_command_prints_a_short_report_and_logs_every_run(cycle_run):
    out, summary = cycle_run["stdout"], cycle_run["summary"]
    lines = out.splitlines()
    assert len(lines) < 60 and "DEBUG" not in out and "Warning" not in cycle_run["stderr"]
    assert lines[0].startswith("cycle 2023-01..2025-11 (35 months); Dagster's event log: ") and summary["log"] in lines[0]
    steps = [line.split()[0] for line in lines if line.split() and line.split()[0] in ("ingest", "lifecycle", "retrain")]
    assert steps == ["ingest", "lifecycle", *["retrain"] * (len(steps) - 2)] and len(steps) > 2
    log_text = open(summary["log"]).read()
    with _instance(cycle_run["env"]) as instance:
        runs = instance.get_run_records()
    assert len(runs) == len(steps) and all(f"run {r.dagster_run.run_id}" in log_text for r in runs)
    assert all(r.dagster_run.is_success for r in runs)


def test_dashboard_registry_and_printed_metrics(cycle_run):
    s, out = cycle_run["settings"], cycle_run["stdout"]
    png = s.reports / "performance_dashboard.png"
    assert Image.open(png).size[0] > 1000
    assert len(json.loads((s.reports / "performance_dashboard.json").read_text())["charts"]) == 6
    store = ModelStore(s.model_store)
    reg = store.registry()
    champion = reg["months"]["2025-11-01"]["champion"]
    assert champion and store.verify(champion)
    latest = store.read_bundle_metadata(cycle_run["summary"]["latest_model"])
    assert latest["window_bounds"] == {"train": "2023-01..2024-03", "validation": "2024-04..2024-07", "test": "2024-08..2024-10", "oot": "2024-11..2025-01"}
    for name, metrics in latest["metrics"].items():  # every candidate's AUC per split is printed
        line = next(line for line in out.splitlines() if line.startswith(name))
        for split in SPLITS:
            assert f"{metrics['auc'][split]:.4f}" in line
    best = latest["metrics"][latest["estimator"]]["auc"]
    assert best["oot"] >= 0.80 and best["oot"] > latest["metrics"][BASELINE]["auc"]["oot"]
    champ = store.read_bundle_metadata(champion)
    assert champ["metrics"][champ["estimator"]]["auc"]["oot"] > champ["metrics"][BASELINE]["auc"]["oot"]


def test_rerun_does_not_retrain_the_same_breach_twice(cycle_run):
    first = cycle_run["summary"]
    assert first["retrains"], "the real data breaches PSI (clickstream stops in 2024-07) and precision thresholds"
    proc = subprocess.run([sys.executable, "-m", "loan_pipeline.cycle", "--skip-ingest", "--json", str(cycle_run["settings"].home / "again.json")],
                          env=cycle_run["env"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = json.loads((cycle_run["settings"].home / "again.json").read_text())
    assert {r["run_key"] for r in again["retrains"]}.isdisjoint({r["run_key"] for r in first["retrains"]})
    assert again["champion"] == first["champion"]


def test_the_clickstream_gap_fails_feature_psi_as_missing_features(cycle_run):
    """In the CS611 extract no loan applied from 2024-07 has clickstream: from the first month a champion
    scores, the fe_* features are reported missing (share 1.0) and breach feature PSI, instead of a PSI of
    ~16 made by the floor of emptied bins."""
    s = cycle_run["settings"]
    mon = lake.read_months_pandas(s.table(tables.MONITORING)).set_index("monitoring_month")
    scored = mon[mon["n_scored"] > 0]
    first = scored.index[0]
    assert first == "2024-11-01"
    for month in scored.index:
        missing = json.loads(mon.loc[month, "features_missing"])
        assert missing and all(f.startswith("fe_") for f in missing) and set(missing.values()) == {1.0}, month
        assert not set(missing) & set(json.loads(mon.loc[month, "feature_psi"])), month
        assert "psi_feature" in mon.loc[month, "breaches"], month
