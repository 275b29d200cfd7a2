"""The Parquet lake: one folder per table, one `month=YYYY-MM-01` sub-folder per partition.

Writers never write into a live month folder. They write a complete new version into
`<table>/_staging/<token>/month=.../`, then swap each month folder in with directory renames, so a
reader (Spark, pyarrow, pandas, DuckDB) sees either the previous version of a month or the new one,
never a half-written one. Folders starting with `_` are ignored by Spark and pyarrow readers.
If a process dies between the two renames of a swap, the old version sits in `_trash/` and the next
writer (or `recover`) puts it back.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

MONTH_COLUMN = "month"


def month_dir(table: Path, month: str) -> Path:
    return table / f"{MONTH_COLUMN}={month}"


def new_staging_dir(table: Path) -> Path:
    staging = table / "_staging" / uuid.uuid4().hex
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def recover(table: Path) -> list[str]:
    """Restore month folders left in `_trash` by a writer that died mid-swap; returns restored months."""
    restored = []
    trash_root = table / "_trash"
    if not trash_root.exists():
        return restored
    for token_dir in trash_root.iterdir():
        for old in token_dir.glob(f"{MONTH_COLUMN}=*"):
            live = table / old.name
            if not live.exists():
                os.rename(old, live)
                restored.append(old.name.split("=", 1)[1])
        shutil.rmtree(token_dir, ignore_errors=True)
    return restored


def publish(table: Path, staging: Path, months: Iterable[str]) -> None:
    """Swap the staged month folders into the table. Months with no staged rows get an empty folder
    written by the caller beforehand (see `ensure_month_dirs`), so every requested month is replaced."""
    recover(table)
    token = staging.name
    trash = table / "_trash" / token
    for month in sorted(set(months)):
        new = month_dir(staging, month)
        if not new.exists():
            raise FileNotFoundError(f"staged output for {MONTH_COLUMN}={month} is missing under {staging}")
        live = month_dir(table, month)
        if live.exists():
            trash.mkdir(parents=True, exist_ok=True)
            os.rename(live, trash / live.name)
        os.rename(new, live)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def ensure_month_dirs(staging: Path, months: Iterable[str], schema: pa.Schema) -> None:
    """Write an empty Parquet file for months without rows so that an empty month is an explicit,
    readable zero-row partition rather than a missing folder."""
    for month in months:
        folder = month_dir(staging, month)
        if not folder.exists() or not any(folder.glob("*.parquet")):
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(schema.empty_table(), folder / "part-empty.parquet")


def write_months_pandas(df: pd.DataFrame, table: Path, months: Iterable[str]) -> dict[str, int]:
    """Atomically replace the given months of `table` with the rows of `df` (which must carry a
    `month` column). Returns the row count written per month."""
    months = sorted(set(months))
    unexpected = set(df[MONTH_COLUMN].unique()) - set(months) if len(df) else set()
    if unexpected:
        raise ValueError(f"rows for months {sorted(unexpected)} are outside the months being written {months}")
    staging = new_staging_dir(table)
    try:
        counts = {}
        data = df.drop(columns=[MONTH_COLUMN])
        schema = pa.Schema.from_pandas(data, preserve_index=False)
        for month in months:
            part = data[df[MONTH_COLUMN] == month]
            folder = month_dir(staging, month)
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False), folder / "part-0.parquet")
            counts[month] = len(part)
        publish(table, staging, months)
        return counts
    except BaseException:
        discard(staging)
        raise


def available_months(table: Path) -> list[str]:
    if not table.exists():
        return []
    return sorted(p.name.split("=", 1)[1] for p in table.glob(f"{MONTH_COLUMN}=*") if p.is_dir())


def read_months_arrow(table: Path, months: Iterable[str] | None = None, columns: list[str] | None = None) -> dict[str, pa.Table]:
    """Some or all months of a table as Arrow tables, by month (months without a folder are left out)."""
    present = available_months(table)
    wanted = present if months is None else [m for m in sorted(set(months)) if m in present]
    return {month: ds.dataset(month_dir(table, month), format="parquet").to_table(columns=columns) for month in wanted}


def read_months_pandas(table: Path, months: Iterable[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Read some or all months of a table into pandas, with `month` as a string column."""
    frames = []
    for month, tbl in read_months_arrow(table, months, columns).items():
        frame = tbl.to_pandas()
        frame[MONTH_COLUMN] = month
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*(columns or []), MONTH_COLUMN])
    return pd.concat(frames, ignore_index=True)


def month_row_counts(table: Path, months: Iterable[str]) -> dict[str, int]:
    """Row count per month from Parquet footers only (no data read)."""
    counts = {}
    for month in months:
        folder = month_dir(table, month)
        counts[month] = sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob("*.parquet")) if folder.exists() else 0
    return counts
