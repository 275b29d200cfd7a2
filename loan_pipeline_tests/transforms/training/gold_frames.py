"""Gold-like frames (gold_features, gold_labels) with a learnable default signal, for the training,
scoring and model-asset tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_pipeline.features import CATEGORICAL_FEATURES, LABEL_COLUMNS, MODEL_FEATURES, NUMERIC_FEATURES


def month_keys(first: str, last: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="MS")]


def make_gold(first="2023-01-01", last="2024-12-01", per_month=150, seed=0, mob=6, shift_after: str | None = None):
    """Gold-like frames (gold_features, gold_labels) with a learnable default signal.

    `shift_after`: from this application month on, Interest_Rate is shifted (drift for PSI tests)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in month_keys(first, last):
        n = per_month
        f = {c: rng.normal(0, 1, n) for c in NUMERIC_FEATURES}
        f["Interest_Rate"] = rng.normal(15, 5, n) + (10 if shift_after and m >= shift_after else 0)
        f["Occupation"] = rng.choice(["Lawyer", "Doctor", "Writer", None], n)
        f["Credit_Mix"] = rng.choice(["Bad", "Standard", "Good"], n)
        f["Payment_of_Min_Amount"] = rng.choice(["Yes", "No", "NM"], n)
        f["Payment_Behaviour"] = rng.choice(["Low_spent_Small_value_payments", None], n)
        frame = pd.DataFrame(f)
        frame.loc[rng.random(n) < 0.1, "Age"] = np.nan  # something to impute
        frame["loan_id"] = [f"L{m[:7]}-{i}" for i in range(n)]
        frame["Customer_ID"] = [f"C{m[:7]}-{i}" for i in range(n)]
        frame["application_date"] = pd.Timestamp(m).date()
        frame["month"] = m
        rows.append(frame)
    features = pd.concat(rows, ignore_index=True)
    logit = 1.5 * features["Credit_History_Months"] - 1.0 * features["loan_amt"] + (features["Credit_Mix"] == "Bad") * 1.5 - 0.5
    p = 1 / (1 + np.exp(-logit))
    label = (rng.random(len(features)) < p).astype(int)
    label_month = (pd.to_datetime(features["month"]) + pd.DateOffset(months=mob)).dt.strftime("%Y-%m-%d")
    labels = pd.DataFrame(
        {
            "loan_id": features["loan_id"], "Customer_ID": features["Customer_ID"],
            "application_month": features["month"], "label_month": label_month, "mob": mob,
            "dpd": np.where(label == 1, 45, 0), "label": label, "label_definition": f"dpd30_mob{mob}",
        }
    )
    labels["month"] = labels["label_month"]
    for c in CATEGORICAL_FEATURES:
        features[c] = features[c].astype(object)
    return features[["loan_id", "Customer_ID", "application_date", *MODEL_FEATURES, "month"]], labels[[*LABEL_COLUMNS, "month"]]
