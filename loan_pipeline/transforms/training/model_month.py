"""One model month (the `model[M]` partition): train if the policy says so, decide the promotion and
record the champion in force for M in the model store.

Only labels observable before M are used. A re-materialized month keeps its own earlier training and,
if the champion before it changed since (a replay after a governance retrain), re-decides the
promotion against the new champion on the same out-of-time window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_pipeline.transforms.training.candidates import (
    BASELINE, feature_importances, model_inputs, safe_auc, select_best, train_candidates,
)
from loan_pipeline.transforms.training.policy import TrainingPolicy, should_train
from loan_pipeline.transforms.training.promotion import decide_promotion
from loan_pipeline.transforms.training.splits import SPLITS, LabelledLoans, split_frames, split_windows


def _threshold_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score

    pred = (proba >= threshold).astype(int)
    return {
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "n": int(len(y)),
        "default_rate": float(np.mean(y)) if len(y) else float("nan"),
    }


def _oot_auc(store, version: str, oot: pd.DataFrame) -> float:
    """AUC of a stored (hash-verified) model on an out-of-time frame."""
    from threadpoolctl import threadpool_limits

    pipe, meta = store.load(version)
    with threadpool_limits(limits=1):
        proba = pipe.predict_proba(model_inputs(oot, meta["features"]))[:, 1]
    return safe_auc(oot["label"].to_numpy(), proba)


def run_model_month(
    month: str,
    labelled: LabelledLoans,
    store,
    policy: TrainingPolicy,
    forced: bool = False,
    label_definition: str = "",
) -> dict:
    """Decide and record the champion in force for `month` (the `model[month]` partition).

    Uses only labels with label_month < month. Returns {"entry": registry entry, "training": details or None}.
    """
    from loan_pipeline.transforms.monitoring import reference_profile

    champion = store.champion_before(month)
    frame = labelled.observable_before(month)
    windows = split_windows(frame["application_month"].unique(), policy)
    prior = store.month_entry(month)  # set when model[month] is re-materialized (e.g. a governance retrain)
    last_training = store.last_training_before(month)
    if prior and prior.get("trained"):
        last_training = {"month": month, "version": prior["trained"], "data_end": store.registry()["versions"][prior["trained"]]["data_end"]}
    decision = should_train(month, champion, windows, policy, forced, last_training)
    if not decision.train and prior and prior.get("trained") and (forced or last_training["month"] == month):
        # Keep this month's own earlier training; if the champion before it changed since (a replay after a
        # governance retrain), re-decide the promotion against the new champion on the same OOT window.
        promotion_dict = prior.get("decision", {})
        champion_version = champion["version"] if champion else None
        if promotion_dict.get("champion_version", champion_version) != champion_version:
            challenger_meta = store.read_bundle_metadata(prior["trained"])
            oot = frame[frame["application_month"].isin(challenger_meta["windows"]["oot"])]
            champion_oot_auc = _oot_auc(store, champion_version, oot) if champion_version else None
            challenger_auc = challenger_meta["metrics"][challenger_meta["estimator"]]["auc"]["oot"]
            promotion_dict = {**decide_promotion(challenger_auc, champion_oot_auc, policy.promotion_margin).as_dict(), "champion_version": champion_version}
        kept = {
            **prior,
            "champion": prior["trained"] if promotion_dict.get("promote") else champion_version,
            "forced": forced,
            "decision": {**promotion_dict, "rerun_note": decision.reason},
        }
        store.record_month(month, kept)
        return {"entry": kept, "training": None}
    entry = {
        "champion": champion["version"] if champion else None,
        "trained": None,
        "training_reason": decision.reason,
        "labels_observed_before": month,
        "labelled_application_months": f"{windows.train[0][:7]}..{windows.oot[-1][:7]}" if windows else None,
        "forced": forced,
    }
    if not decision.train:
        entry["decision"] = {"promote": False, "reason": f"no training: {decision.reason}"}
        store.record_month(month, entry)
        return {"entry": entry, "training": None}

    candidates, baseline = train_candidates(frame, windows, policy)
    best = select_best(candidates)
    parts = split_frames(frame, windows)
    y = {s: parts[s]["label"].to_numpy() for s in SPLITS}

    champion_oot_auc = _oot_auc(store, champion["version"], parts["oot"]) if champion else None
    promotion = decide_promotion(best.auc["oot"], champion_oot_auc, policy.promotion_margin)

    metrics = {c.name: {"auc": c.auc, "fit_seconds": c.fit_seconds, "threshold": c.threshold} for c in [*candidates, baseline]}
    metrics[best.name]["at_threshold"] = {s: _threshold_metrics(y[s], best.proba[s], best.threshold) for s in SPLITS}
    train_inputs = model_inputs(parts["train"], best.features)
    bundle = store.save_bundle(
        best.pipeline,
        {
            "estimator": best.name,
            "features": list(best.features),
            "threshold": best.threshold,
            "windows": windows.as_dict(),
            "window_bounds": windows.bounds(),
            "labels_observed_before": month,
            "label_definition": label_definition,
            "metrics": metrics,
            "selected_on": "validation AUC",
            "baseline": BASELINE,
            "beats_baseline_oot": bool(best.auc["oot"] > baseline.auc["oot"]),
            "policy": policy.as_dict(),
            "promotion": promotion.as_dict(),
            "champion_before": champion["version"] if champion else None,
            "feature_importances": feature_importances(
                best.pipeline, X=model_inputs(parts["validation"], best.features), y=y["validation"]
            ),
            "reference": reference_profile(train_inputs, best.proba["train"], best.features),
            "split_rows": {s: int(len(parts[s])) for s in SPLITS},
        },
        month,
    )
    entry.update(
        champion=bundle["version"] if promotion.promote else entry["champion"],
        trained=bundle["version"],
        decision={**promotion.as_dict(), "champion_version": champion["version"] if champion else None},
    )
    store.record_month(month, entry)
    return {
        "entry": entry,
        "training": {
            "bundle": bundle,
            "candidates": candidates,
            "baseline": baseline,
            "best": best,
            "y": y,
            "promotion": promotion,
        },
    }
