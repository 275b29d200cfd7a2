"""Dashboard: one PNG with six charts plus the data of each chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from loan_pipeline.transforms.dashboard import CHART_TITLES, build_dashboard


def test_dashboard_six_charts(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
    cohort = pd.DataFrame({"label": y, "prediction_proba": p, "prediction": (p >= 0.5).astype(int)})
    months = ["2025-05-01", "2025-06-01", "2025-07-01"]
    history = pd.DataFrame(
        {
            "monitoring_month": months, "cohort_month": ["2024-11-01", "2024-12-01", "2025-01-01"], "n_matched": [100] * 3,
            "auc": [0.8, 0.75, 0.68], "precision": [0.6, 0.62, 0.5], "recall": [0.5, 0.55, 0.4], "f1": [0.55, 0.58, 0.44],
            "psi_score": [0.01, 0.02, 0.3], "breaches": ["", "", "auc+psi_score"],
        }
    )
    summary = build_dashboard(cohort, history, tmp_path)
    assert summary["charts"] == list(CHART_TITLES) and len(CHART_TITLES) == 6
    png = tmp_path / "performance_dashboard.png"
    assert Image.open(png).size[0] > 1000
    data = tmp_path / "performance_dashboard_data"
    assert sorted(f.stem for f in data.glob("*.csv")) == ["confusion_matrix", "monthly", "precision_recall", "probability_histogram", "roc"]
    cm = pd.read_csv(data / "confusion_matrix.csv")
    assert cm[["pred_0", "pred_1"]].to_numpy().sum() == 300
    monthly = pd.read_csv(data / "monthly.csv")
    assert list(monthly["monitoring_month"]) == months and (monthly["auc_threshold"] == 0.70).all()
    hist = pd.read_csv(data / "probability_histogram.csv")
    assert hist["count_label_1"].sum() == y.sum()


def test_dashboard_without_any_matured_cohort(tmp_path):
    cohort = pd.DataFrame({"loan_id": [], "prediction_proba": [], "prediction": [], "label": []})
    history = pd.DataFrame(columns=["monitoring_month", "cohort_month", "n_matched", "auc", "precision", "recall", "f1", "psi_score", "breaches"])
    summary = build_dashboard(cohort, history, tmp_path)
    assert (tmp_path / "performance_dashboard.png").exists() and summary["pooled_cohort_rows"] == 0 and summary["months"] == []
