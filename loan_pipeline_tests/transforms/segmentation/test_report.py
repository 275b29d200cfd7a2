"""The elbow plot and the Markdown tables."""

from __future__ import annotations

import pandas as pd

from loan_pipeline.transforms.segmentation.report import elbow_plot_png, markdown_table


def test_elbow_plot_is_a_png(real_run, tmp_path):
    png = elbow_plot_png(real_run.elbow, "t", tmp_path / "elbow.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "elbow.png").read_bytes() == png


def test_markdown_table():
    md = markdown_table(pd.DataFrame({"k": [1], "v": [1234.5], "n": [None], "l": [["A", "B"]]}))
    assert md.splitlines() == ["| k | v | n | l |", "|---|---|---|---|", "| 1 | 1,234.50 |  | A, B |"]
