"""A chain of model months: trains, carries the champion forward and respects the time contract."""

from __future__ import annotations

from loan_pipeline.transforms.model_store import ModelStore
from loan_pipeline.transforms.training.candidates import BASELINE
from loan_pipeline.transforms.training.model_month import run_model_month
from loan_pipeline.transforms.training.policy import TrainingPolicy
from loan_pipeline.transforms.training.splits import LabelledLoans
from loan_pipeline_tests.transforms.training.gold_frames import make_gold, month_keys


def test_model_month_chain_trains_carries_forward_and_respects_the_time_contract(tmp_path):
    features, labels = make_gold(first="2023-01-01", last="2024-12-01", per_month=80)
    store = ModelStore(tmp_path)
    policy = TrainingPolicy(retrain_every_months=3)
    labelled, decisions = LabelledLoans(features, labels), {}
    for month in month_keys("2024-09-01", "2025-03-01"):
        decisions[month] = run_model_month(month, labelled, store, policy)["entry"]
    # first 16 labelled application months (2023-01..2024-04) are observable from 2024-11 (label month 2024-10)
    assert decisions["2024-09-01"]["champion"] is None and decisions["2024-10-01"]["champion"] is None
    first = decisions["2024-11-01"]
    assert first["trained"] and first["champion"] == first["trained"]
    assert decisions["2024-12-01"]["trained"] is None and decisions["2024-12-01"]["champion"] == first["champion"]
    assert decisions["2025-02-01"]["trained"]  # 3 months later: retrain; promotion decided by the OOT rule
    for month, entry in decisions.items():
        if entry["trained"]:
            bundle = store.read_bundle_metadata(entry["trained"])
            used = labels[labels["application_month"].isin(sum(bundle["windows"].values(), []))]
            assert (used["label_month"] < month).all(), "model[M] must not use labels observable in or after M"
            assert sum(bundle["split_rows"].values()) == len(used)
            assert set(bundle["metrics"]) == {"logistic_regression", "random_forest", "gradient_boosting", BASELINE}
            assert 0 <= bundle["threshold"] <= 1
    reg = store.registry()
    assert reg["months"]["2025-03-01"]["champion"] in reg["versions"]
