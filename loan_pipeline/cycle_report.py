"""What the cycle command tells its user: one line per run, Dagster's events in a log file, a summary."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from pathlib import Path

import dagster as dg

from loan_pipeline import lake, tables
from loan_pipeline.settings import Settings
from loan_pipeline.transforms.model_store import ModelStore
from loan_pipeline.transforms.training.splits import SPLITS


class RunLog:
    """A text file of every event of the cycle's runs, as the UI's run page shows them."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, instance: dg.DagsterInstance, run_id: str, step_name: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(f"# {step_name}: run {run_id}\n")
            for entry in instance.all_logs(run_id):
                when = dt.datetime.fromtimestamp(entry.timestamp).isoformat(timespec="milliseconds")
                kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
                message = entry.dagster_event.message if entry.dagster_event and entry.dagster_event.message else entry.user_message
                out.write(f"{when} {logging.getLevelName(entry.level):7s} {entry.step_key or '-'} {kind} {message}\n")
                if entry.error_info:
                    out.write(entry.error_info.to_string() + "\n")


def run_summary(result: dg.ExecuteInProcessResult) -> dict:
    """Run id, success, rows written per layer (from each asset's `dagster/row_count`), the first error."""
    rows: dict[str, int] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        count = materialization.metadata.get("dagster/row_count")
        if count is not None:
            rows[materialization.asset_key.to_user_string()] = int(count.value)
    by_layer: dict[str, int] = defaultdict(int)
    for asset, count in rows.items():
        by_layer[asset.split("_")[0]] += count
    failures = [e for e in result.all_events if e.is_step_failure]
    return {
        "run_id": result.run_id,
        "success": result.success,
        "rows": rows,
        "rows_text": ", ".join(f"{layer} {n:,} rows" for layer, n in by_layer.items()) or "no rows",
        "error": failures[0].event_specific_data.error.message.strip() if failures else "",
    }


def auc_table(bundle: dict) -> list[str]:
    lines = [f"{'candidate':28s} " + " ".join(f"{s:>10s}" for s in SPLITS)]
    for name, m in bundle["metrics"].items():
        mark = " *" if name == bundle["estimator"] else ""
        lines.append(f"{name + mark:28s} " + " ".join(f"{m['auc'][s]:10.4f}" for s in SPLITS))
    return lines


def summary_lines(settings: Settings, first: str, last: str, timings: dict, retrains: list[dict]) -> tuple[dict, list[str]]:
    """The cycle's summary (also written as JSON by --json) and the lines printed for it."""
    store = ModelStore(settings.model_store)
    months = store.registry()["months"]
    champion = months[max(months)]["champion"] if months else None
    trained = [m for m in months if months[m].get("trained")]
    latest = months[max(trained)]["trained"] if trained else None
    monitoring = lake.read_months_pandas(settings.table(tables.MONITORING))
    outputs = {
        "lake": str(settings.datamart),
        "predictions": str(settings.table(tables.PREDICTIONS)),
        "monitoring": str(settings.table(tables.MONITORING)),
        "model_store": str(settings.model_store),
        "registry": str(store.registry_path),
        "dashboard": str(settings.reports / "performance_dashboard.png"),
    }
    latest_bundle = store.read_bundle_metadata(latest) if latest else None
    summary = {
        "months": [first, last],
        "timings": timings,
        "retrains": [{"month": r["month"], "run_key": r["run_key"]} for r in retrains],
        "champion": champion,
        "latest_model": latest,
        "outputs": outputs,
        "monitoring_months_with_matured_labels": int((monitoring["n_matched"] > 0).sum()) if len(monitoring) else 0,
        "latest_model_auc": {k: v["auc"] for k, v in latest_bundle["metrics"].items()} if latest_bundle else {},
    }
    lines = ["", "outputs:", *(f"  {name:12s} {path}" for name, path in outputs.items())]
    if latest_bundle:
        lines += ["", f"latest model {latest_bundle['version']} ({latest_bundle['estimator']}), windows {latest_bundle['window_bounds']}"]
        lines += [*auc_table(latest_bundle), f"decision: {latest_bundle['promotion']['reason']}"]
    if champion:
        c = store.read_bundle_metadata(champion)
        at_threshold = {k: round(v, 3) for k, v in c["metrics"][c["estimator"]]["at_threshold"]["oot"].items()}
        lines += ["", f"champion in force for {last[:7]}: {c['version']} ({c['estimator']}), windows {c['window_bounds']}"]
        lines += [*auc_table(c), f"threshold {c['threshold']:.3f}; at threshold (OOT): {json.dumps(at_threshold)}"]
    else:
        lines += ["", "no champion: not enough matured labels for the minimum training windows"]
    lines += ["", "seconds: " + ", ".join(f"{k.removesuffix('_s')} {v}" for k, v in timings.items())]
    return summary, lines
