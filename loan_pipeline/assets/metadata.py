"""Metadata shown in the UI for lake tables: rows per month, location and a preview."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from loan_pipeline import lake

PREVIEW_ROWS = 5


def table_metadata(table: Path, rows_per_month: dict[str, int], preview_columns: list[str] | None = None) -> dict:
    months_with_rows = [m for m, n in sorted(rows_per_month.items()) if n]
    preview = lake.read_months_pandas(table, months_with_rows[:1], columns=preview_columns).head(PREVIEW_ROWS)
    return {
        "dagster/row_count": int(sum(rows_per_month.values())),
        "rows_per_month": dg.MetadataValue.json(rows_per_month),
        "path": dg.MetadataValue.path(str(table)),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_no rows in these months_"),
    }
