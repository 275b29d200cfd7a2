"""Metadata shown in the UI for lake tables: rows per month, location and a preview."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from loan_pipeline import lake

PREVIEW_ROWS = 5


def share(part: int, whole: int) -> float:
    """part / whole rounded for display; 0 for an empty month."""
    return round(part / whole, 6) if whole else 0.0


def table_metadata(table: Path, rows_per_month: dict[str, int], preview_columns: list[str] | None = None) -> dict:
    months_with_rows = [m for m, n in sorted(rows_per_month.items()) if n]
    preview = lake.read_months_pandas(table, months_with_rows[:1], columns=preview_columns).head(PREVIEW_ROWS)
    return {
        "dagster/row_count": int(sum(rows_per_month.values())),
        "rows_per_month": dg.MetadataValue.json(rows_per_month),
        "path": dg.MetadataValue.path(str(table)),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_no rows in these months_"),
    }


def schema_contract_result(table: Path, months: list[str], expected: dict[str, str]) -> dg.AssetCheckResult:
    """Passes when every written month has exactly the expected columns with the expected Arrow types."""
    problems = {}
    for month in months:
        files = sorted(lake.month_dir(table, month).glob("*.parquet"))
        # Element nullability of lists differs between Spark and pyarrow writers; it is not part of the contract.
        actual = {f.name: str(f.type).replace(" not null", "") for f in pq.read_schema(files[0])} if files else {}
        missing = sorted(set(expected) - set(actual))
        unexpected = sorted(set(actual) - set(expected))
        mistyped = {c: f"{actual[c]} (expected {t})" for c, t in expected.items() if c in actual and actual[c] != t}
        if missing or unexpected or mistyped:
            problems[month] = {"missing": missing, "unexpected": unexpected, "mistyped": mistyped}
    return dg.AssetCheckResult(
        check_name="schema_contract",
        passed=not problems,
        description=f"schema differs in {len(problems)} month(s)" if problems else f"{len(expected)} columns as contracted",
        metadata={"problems_per_month": dg.MetadataValue.json(problems), "expected": dg.MetadataValue.json(expected)},
    )
