"""Training splits: the time contract (labels observable before the model month) and the temporal windows."""

from __future__ import annotations

from loan_pipeline.transforms.training.policy import TrainingPolicy
from loan_pipeline.transforms.training.splits import labelled_frame, split_windows
from loan_pipeline_tests.transforms.training.gold_frames import make_gold, month_keys


def test_split_windows_are_ordered_disjoint_and_match_the_real_data_calendar():
    months = month_keys("2023-01-01", "2025-01-01")  # labelled application months of the CS611 extract
    w = split_windows(months, TrainingPolicy())
    assert w.bounds() == {"train": "2023-01..2024-03", "validation": "2024-04..2024-07", "test": "2024-08..2024-10", "oot": "2024-11..2025-01"}
    seq = [*w.train, *w.validation, *w.test, *w.oot]
    assert seq == sorted(seq) and len(seq) == len(set(seq)) == len(months)
    assert split_windows(months[:15], TrainingPolicy()) is None  # 16 months needed
    capped = split_windows(months, TrainingPolicy(max_train_months=6))
    assert capped.train == tuple(months[9:15])


def test_labelled_frame_uses_only_labels_observable_before_the_model_month():
    features, labels = make_gold(per_month=20)
    frame = labelled_frame(features, labels, "2024-07-01")
    assert (frame["label_month"] < "2024-07-01").all()
    assert frame["application_month"].max() == "2023-12-01"  # mob 6: label of Dec-23 became known in Jun-24
    assert len(frame) == (labels["label_month"] < "2024-07-01").sum()
