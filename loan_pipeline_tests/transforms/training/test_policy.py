"""The training policy: when a model month trains."""

from __future__ import annotations

from loan_pipeline.transforms.training.policy import TrainingPolicy, should_train
from loan_pipeline.transforms.training.splits import split_windows
from loan_pipeline_tests.transforms.training.gold_frames import month_keys


def test_training_policy():
    p = TrainingPolicy(retrain_every_months=3)
    w = split_windows(month_keys("2023-01-01", "2024-06-01"), p)
    champ = {"version": "v", "trained_month": "2024-11-01", "data_end": "2024-03-01"}
    assert not should_train("2024-12-01", None, None, p).train  # not enough labels
    assert should_train("2024-12-01", None, w, p).train  # no champion yet
    assert not should_train("2025-01-01", champ, w, p).train  # 2 months old
    assert should_train("2025-02-01", champ, w, p).train  # 3 months old, newer labels
    same = {**champ, "data_end": "2024-06-01"}
    assert not should_train("2025-02-01", same, w, p).train  # no labels newer than its data
    assert should_train("2025-01-01", champ, w, p, forced=True).train
    last = {"month": "2025-01-01", "data_end": "2024-06-01"}
    assert not should_train("2025-01-01", champ, w, p, forced=True, last_training=last).train
