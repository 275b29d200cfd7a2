"""When to train: the training policy (window sizes, retrain cadence, promotion margin) and the
decision whether a model month trains.

A model month trains when there are enough labelled months for the minimum windows and there is no
champion yet, the last training is old enough, or a retrain is forced; never on exactly the labelled
data of the last training, which would reproduce the same model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from loan_pipeline.transforms.training.splits import SplitWindows


@dataclass(frozen=True)
class TrainingPolicy:
    """When to train and how to cut the labelled months. Defaults (months of application):

    - train at least 6 (all older labelled months, or at most `max_train_months` if set),
      validation 4, test 3, out-of-time 3: the first model needs 16 labelled application months;
    - retrain when the champion is `retrain_every_months` old (and new labels arrived since it was trained),
      or when forced (governance sensor / config);
    - a candidate replaces the champion only if its out-of-time AUC beats the champion's on the same
      window by at least `promotion_margin`.
    """

    min_train_months: int = 6
    max_train_months: int | None = None
    validation_months: int = 4
    test_months: int = 3
    oot_months: int = 3
    retrain_every_months: int = 3
    promotion_margin: float = 0.005
    random_state: int = 42

    @property
    def min_labelled_months(self) -> int:
        return self.min_train_months + self.validation_months + self.test_months + self.oot_months

    def as_dict(self) -> dict:
        return asdict(self)


def months_between(earlier: str, later: str) -> int:
    a, b = pd.Timestamp(earlier), pd.Timestamp(later)
    return (b.year - a.year) * 12 + (b.month - a.month)


@dataclass(frozen=True)
class TrainingDecision:
    train: bool
    reason: str


def should_train(
    model_month: str,
    champion: dict | None,
    windows: SplitWindows | None,
    policy: TrainingPolicy,
    forced: bool = False,
    last_training: dict | None = None,
) -> TrainingDecision:
    """`champion`: the champion in force before `model_month` ({"version", "trained_month", "data_end"}) or None.
    `last_training`: the latest training before `model_month` ({"month", "data_end"}), promoted or not — a
    challenger that lost still resets the clock, so a kept champion is not retrained every month."""
    if windows is None:
        return TrainingDecision(False, "not enough labelled months for the minimum train/validation/test/OOT windows")
    if forced:
        if last_training and windows.oot[-1] <= last_training["data_end"]:
            # Deterministic training on the same labelled data would reproduce the same model.
            return TrainingDecision(
                False, f"forced retrain skipped: no labels newer than the last training ({last_training['month'][:7]})"
            )
        return TrainingDecision(True, "forced retrain")
    if champion is None:
        return TrainingDecision(True, "no champion yet")
    last = last_training or {"month": champion["trained_month"], "data_end": champion["data_end"]}
    age = months_between(last["month"], model_month)
    if age < policy.retrain_every_months:
        return TrainingDecision(False, f"last training {last['month'][:7]} is {age} month(s) old (< {policy.retrain_every_months})")
    if windows.oot[-1] <= last["data_end"]:
        # Same labelled data as the last training: a retrain would reproduce it.
        return TrainingDecision(False, f"no labels newer than the last training's data (ends {last['data_end'][:7]})")
    return TrainingDecision(True, f"last training {last['month'][:7]} is {age} month(s) old (>= {policy.retrain_every_months})")
