"""Presenting a segmentation to people: the elbow plot (PNG) and small Markdown tables for the Dagster
UI and the reports.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from loan_pipeline.files import atomic_write_bytes
from loan_pipeline.transforms.segmentation.elbow import Elbow


def elbow_plot_png(elbow: Elbow, title: str, path: Path | None = None) -> bytes:
    """The SSE curve with the chosen k marked; returns PNG bytes (and writes them to `path` if given)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure without pyplot: no global state, safe in a multi-threaded executor.
    fig = Figure(figsize=(6.4, 3.6), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(elbow.ks, elbow.sse, marker="o", markersize=3, linewidth=1.2, color="#1f77b4")
    chosen_sse = elbow.sse[elbow.k - 1]
    label = f"elbow k = {elbow.k}" if elbow.found else f"no elbow found, k = {elbow.k}"
    ax.axvline(elbow.k, color="#d62728", linestyle="--", linewidth=1)
    ax.plot([elbow.k], [chosen_sse], marker="o", markersize=8, color="#d62728", label=label)
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("SSE (inertia, scaled features)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    if path is not None:
        atomic_write_bytes(Path(path), data)
    return data


def markdown_table(df: pd.DataFrame, float_format: str = "{:,.2f}") -> str:
    """A small DataFrame as a Markdown table (no `tabulate` dependency)."""

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else float_format.format(v)
        if isinstance(v, (list, tuple)):
            return ", ".join(map(str, v))
        return str(v)

    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
