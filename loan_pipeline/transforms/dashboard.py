"""The performance dashboard: the seed's six charts over the monitoring history, as one PNG + chart data.

Charts 1-4 pool every matured cohort (loans whose label matured in a monitored month, scored by the
champion in force when they applied); charts 5-6 are the monthly history, one point per calendar month.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs inside Dagster workers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_auc_score, roc_curve  # noqa: E402

CHART_TITLES = (
    "ROC curve",
    "Precision-recall curve",
    "Confusion matrix",
    "Predicted probability by actual class",
    "Monthly AUC",
    "Monthly precision / recall / F1",
)


def chart_data(cohort: pd.DataFrame, history: pd.DataFrame, auc_threshold: float) -> dict[str, pd.DataFrame]:
    """The data behind each chart (also written next to the PNG)."""
    y = cohort["label"].to_numpy(dtype=int)
    p = cohort["prediction_proba"].to_numpy(dtype=float)
    both = len(np.unique(y)) == 2
    fpr, tpr, _ = roc_curve(y, p) if both else (np.array([]), np.array([]), None)
    prec, rec, _ = precision_recall_curve(y, p) if both else (np.array([]), np.array([]), None)
    cm = confusion_matrix(y, cohort["prediction"].to_numpy(dtype=int), labels=[0, 1]) if len(y) else np.zeros((2, 2), int)
    bins = np.linspace(0, 1, 21)
    hist = pd.DataFrame(
        {
            "bin_left": bins[:-1],
            "bin_right": bins[1:],
            "count_label_0": np.histogram(p[y == 0], bins=bins)[0],
            "count_label_1": np.histogram(p[y == 1], bins=bins)[0],
        }
    )
    monthly = history.sort_values("monitoring_month")[
        ["monitoring_month", "cohort_month", "n_matched", "auc", "precision", "recall", "f1", "psi_score", "breaches"]
    ].reset_index(drop=True)
    monthly["auc_threshold"] = auc_threshold
    return {
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr}),
        "precision_recall": pd.DataFrame({"recall": rec, "precision": prec}),
        "confusion_matrix": pd.DataFrame(cm, index=["actual_0", "actual_1"], columns=["pred_0", "pred_1"]).reset_index(names="actual"),
        "probability_histogram": hist,
        "monthly": monthly,
    }


def render(data: dict[str, pd.DataFrame], cohort_auc: float, out_png: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    ax = axes.ravel()
    roc = data["roc"]
    ax[0].plot(roc["fpr"], roc["tpr"], label=f"AUC = {cohort_auc:.3f}")
    ax[0].plot([0, 1], [0, 1], "k--", lw=0.8)
    ax[0].set(xlabel="False positive rate", ylabel="True positive rate")
    ax[0].legend(loc="lower right")
    pr = data["precision_recall"]
    ax[1].plot(pr["recall"], pr["precision"])
    ax[1].set(xlabel="Recall", ylabel="Precision", ylim=(0, 1.02))
    cm = data["confusion_matrix"][["pred_0", "pred_1"]].to_numpy()
    ax[2].imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax[2].text(j, i, str(v), ha="center", va="center", color="black", fontsize=14)
    ax[2].set(xticks=[0, 1], yticks=[0, 1], xticklabels=["pred 0", "pred 1"], yticklabels=["actual 0", "actual 1"])
    hist = data["probability_histogram"]
    width = hist["bin_right"] - hist["bin_left"]
    ax[3].bar(hist["bin_left"], hist["count_label_0"], width=width, align="edge", alpha=0.6, label="actual 0")
    ax[3].bar(hist["bin_left"], hist["count_label_1"], width=width, align="edge", alpha=0.6, label="actual 1")
    ax[3].set(xlabel="Predicted probability of default", ylabel="Loans")
    ax[3].legend()
    monthly = data["monthly"]
    x = [m[:7] for m in monthly["monitoring_month"]]
    ax[4].plot(x, monthly["auc"], marker="o")
    ax[4].axhline(float(monthly["auc_threshold"].iloc[0]) if len(monthly) else 0.70, color="red", ls="--", label="threshold")
    ax[4].set(ylabel="AUC", ylim=(0.4, 1.0))
    ax[4].legend()
    for metric in ("precision", "recall", "f1"):
        ax[5].plot(x, monthly[metric], marker="o", label=metric)
    ax[5].set(ylabel="Score", ylim=(0, 1))
    ax[5].legend()
    for a in ax[4:]:
        a.tick_params(axis="x", rotation=60, labelsize=8)
    for a, title in zip(ax, CHART_TITLES):
        a.set_title(title)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_png.with_name(f".{out_png.name}.tmp")
    fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    tmp.replace(out_png)


def build_dashboard(cohort: pd.DataFrame, history: pd.DataFrame, out_dir: Path, auc_threshold: float = 0.70) -> dict:
    """Write performance_dashboard.png (one figure, six axes) and one CSV per chart under `out_dir`."""
    out_dir = Path(out_dir)
    data = chart_data(cohort, history, auc_threshold)
    y = cohort["label"].to_numpy(dtype=int)
    cohort_auc = float(roc_auc_score(y, cohort["prediction_proba"])) if len(np.unique(y)) == 2 else float("nan")
    png = out_dir / "performance_dashboard.png"
    render(data, cohort_auc, png)
    data_dir = out_dir / "performance_dashboard_data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in data.items():
        frame.to_csv(data_dir / f"{name}.csv", index=False)
    summary = {
        "png": str(png),
        "data_dir": str(data_dir),
        "charts": list(CHART_TITLES),
        "pooled_cohort_rows": int(len(cohort)),
        "pooled_auc": cohort_auc,
        "months": [m for m in data["monthly"]["monitoring_month"]],
    }
    (out_dir / "performance_dashboard.json").write_text(json.dumps(summary, indent=2))
    return summary


def roc_png(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], title: str) -> bytes:
    """A small ROC figure (one line per split) as PNG bytes, for the model's UI metadata."""
    import io

    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} AUC {auc:.3f}")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=70, format="png")
    plt.close(fig)
    return buf.getvalue()
