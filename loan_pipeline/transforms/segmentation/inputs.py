"""Reading and validating what is segmented: the CC GENERAL files (`file.csv`, `test.csv`) and the
selected feature columns of any frame. Bad input raises `SegmentationInputError` naming the source
(file / table + month) and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from loan_pipeline.sources.cc_generator import CC_COLUMNS, CC_ID, CC_INT_COLUMNS

# --- the CC GENERAL layout (columns defined with the sample generator in sources/) ------------------

CC_NUMERIC_COLUMNS: tuple[str, ...] = tuple(c for c in CC_COLUMNS if c != CC_ID)
# The seed segmented on balance, spending and limit.
DEFAULT_CC_FEATURES: tuple[str, ...] = ("BALANCE", "PURCHASES", "CREDIT_LIMIT")


class SegmentationInputError(ValueError):
    """Input that cannot be segmented; the message names the source (file/table) and the column."""


# --- loading and validation ------------------------------------------------------------------------


def _parse_numeric(raw: pd.Series, source: str, column: str, integer: bool = False) -> pd.Series:
    """Blank -> NaN; anything else must parse as a number (named with its file line on failure)."""
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    values = pd.to_numeric(text.mask(blank), errors="coerce")
    bad = values.isna() & ~blank
    if bad.any():
        examples = [f"line {i + 2}: {text[i]!r}" for i in text.index[bad][:3]]
        raise SegmentationInputError(f"{source}: column {column} has {int(bad.sum())} non-numeric values, e.g. {examples}")
    if integer:
        fractional = values.notna() & (values % 1 != 0)
        if fractional.any():
            examples = [f"line {i + 2}: {text[i]!r}" for i in text.index[fractional][:3]]
            raise SegmentationInputError(f"{source}: column {column} must hold whole numbers, got {examples}")
        return values.astype("Int64")
    return values.astype("float64")


def _read_csv_text(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SegmentationInputError(f"{path}: file not found")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise SegmentationInputError(f"{path}: file is empty (no header)") from exc


def load_cc_customers(path: Path) -> pd.DataFrame:
    """Read a CC GENERAL `file.csv`: the 18 columns typed (CUST_ID string, counts Int64, the rest float).

    Fails on a missing column, a blank or duplicated CUST_ID, a non-numeric value and a column with
    no value at all. Columns beyond the 18 are dropped (listed in `df.attrs["ignored_columns"]`).
    """
    path = Path(path)
    raw = _read_csv_text(path)
    missing = [c for c in CC_COLUMNS if c not in raw.columns]
    if missing:
        raise SegmentationInputError(f"{path}: missing column(s) {missing}; found {list(raw.columns)}")
    if raw.empty:
        raise SegmentationInputError(f"{path}: no customer rows")
    ids = raw[CC_ID].str.strip()
    if (ids == "").any():
        lines = [int(i) + 2 for i in ids.index[ids == ""][:3]]
        raise SegmentationInputError(f"{path}: column {CC_ID} is blank on line(s) {lines}")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise SegmentationInputError(f"{path}: column {CC_ID} has {len(duplicated)} duplicated ids, e.g. {duplicated.head(3).tolist()}")
    df = pd.DataFrame({CC_ID: ids.astype("string")})
    for column in CC_NUMERIC_COLUMNS:
        df[column] = _parse_numeric(raw[column], str(path), column, integer=column in CC_INT_COLUMNS)
        if df[column].isna().all():
            raise SegmentationInputError(f"{path}: column {column} is empty (no value in {len(df)} rows)")
    df.attrs["ignored_columns"] = [c for c in raw.columns if c not in CC_COLUMNS]
    return df


def load_cc_test(path: Path, features: Sequence[str]) -> pd.DataFrame:
    """Read a `test.csv` of new customers. It must hold exactly the model's feature columns (any order);
    rows get ids TEST-1, TEST-2, ... in file order."""
    path = Path(path)
    raw = _read_csv_text(path)
    columns = [c.strip() for c in raw.columns]
    missing = [f for f in features if f not in columns]
    extra = [c for c in columns if c not in features]
    if missing or extra:
        raise SegmentationInputError(
            f"{path}: columns must be exactly the model features {list(features)}; "
            f"missing {missing}, unexpected {extra}"
        )
    raw.columns = columns
    if raw.empty:
        raise SegmentationInputError(f"{path}: no customer rows")
    df = pd.DataFrame({CC_ID: pd.array([f"TEST-{i + 1}" for i in range(len(raw))], dtype="string")})
    for column in features:
        df[column] = _parse_numeric(raw[column], str(path), column)
    return df


def feature_matrix(df: pd.DataFrame, features: Sequence[str], source: str) -> pd.DataFrame:
    """The selected features as float columns, validated: present, numeric, not entirely empty."""
    features = list(features)
    if not features:
        raise SegmentationInputError(f"{source}: no feature selected")
    if len(set(features)) != len(features):
        raise SegmentationInputError(f"{source}: duplicated feature(s) in {features}")
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise SegmentationInputError(f"{source}: missing feature column(s) {missing}; available {list(df.columns)}")
    out = pd.DataFrame(index=df.index)
    for column in features:
        series = df[column]
        if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
            raise SegmentationInputError(f"{source}: feature column {column} is not numeric (dtype {series.dtype})")
        out[column] = series.astype("float64")
        if len(out) and out[column].isna().all():
            raise SegmentationInputError(f"{source}: feature column {column} is empty (no value in {len(out)} rows)")
    return out
