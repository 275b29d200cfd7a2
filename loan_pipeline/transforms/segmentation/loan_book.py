"""The monthly loan-book segmentation's own rules: which features stand in for the CC ones, the rows of
a month, flagged out-of-range values treated as missing, and the gold `customer_segments` rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError

if TYPE_CHECKING:
    from loan_pipeline.transforms.segmentation.pipeline import Segmentation

# Loan-book analogues of balance, spending and limit, all typed numerics in silver_financials:
# - Outstanding_Debt        ~ BALANCE      (what the customer owes)
# - Amount_invested_monthly ~ PURCHASES    (discretionary monthly outflow; Total_EMI_per_month is
#                                           not used: extreme values up to ~80k dominate MinMax)
# - Monthly_Inhand_Salary   ~ CREDIT_LIMIT (capacity; Annual_Income is not used: absurd values
#                                           up to ~24M in the extract would squash MinMax to ~0)
LOAN_BOOK_ID = "Customer_ID"
LOAN_BOOK_DATE = "snapshot_date"
DEFAULT_LOAN_BOOK_FEATURES: tuple[str, ...] = ("Outstanding_Debt", "Amount_invested_monthly", "Monthly_Inhand_Salary")


def month_rows(df: pd.DataFrame, month: str, source: str) -> pd.DataFrame:
    """The rows dated in `month` (YYYY-MM-01): the customers who applied in that month."""
    if LOAN_BOOK_DATE not in df.columns or LOAN_BOOK_ID not in df.columns:
        missing = [c for c in (LOAN_BOOK_ID, LOAN_BOOK_DATE) if c not in df.columns]
        raise SegmentationInputError(f"{source}: missing column(s) {missing}")
    dates = pd.to_datetime(df[LOAN_BOOK_DATE], errors="coerce")
    return df[dates.dt.to_period("M") == pd.Period(month, "M")].reset_index(drop=True)


def mask_flagged_out_of_range(rows: pd.DataFrame, features: Sequence[str], flags_column: str = "dq_flags") -> pd.DataFrame:
    """Silver keeps out-of-range values and flags them `<col>:out_of_range` in `dq_flags`; one absurd
    value would squash MinMax scaling for everybody, so a flagged feature value counts as missing
    (imputed, see the package docstring). Frames without the flags column are returned unchanged."""
    if flags_column not in rows.columns or rows.empty:
        return rows
    flags = rows[flags_column].apply(lambda v: set() if v is None or (isinstance(v, float) and np.isnan(v)) else set(v))
    out = rows.copy()
    for column in features:
        if column in out.columns:
            flagged = flags.apply(lambda f, c=column: f"{c}:out_of_range" in f)
            out.loc[flagged.to_numpy(), column] = np.nan
    return out


def loan_book_segments_frame(rows: pd.DataFrame, seg: Segmentation | None, features: Sequence[str], month: str) -> pd.DataFrame:
    """The gold `customer_segments` rows of one month, with explicit Arrow types so an empty month
    writes the same Parquet schema as a full one."""
    import pyarrow as pa

    n = len(rows)
    if n and seg is None:
        raise ValueError(f"month {month}: {n} rows but no segmentation")
    ids = rows[LOAN_BOOK_ID].astype("string").tolist() if n else []
    dates = pd.to_datetime(rows[LOAN_BOOK_DATE]).dt.date.tolist() if n else []
    out = pd.DataFrame(
        {
            LOAN_BOOK_ID: pd.array(pa.array(ids, type=pa.string()), dtype=pd.ArrowDtype(pa.string())),
            LOAN_BOOK_DATE: pd.array(pa.array(dates, type=pa.date32()), dtype=pd.ArrowDtype(pa.date32())),
            "segment": (seg.assignments["segment"].to_numpy() if n else np.array([])).astype("int32"),
            "k": np.full(n, seg.elbow.k if n else 0, dtype="int32"),
            "n_imputed": (seg.assignments["n_imputed"].to_numpy() if n else np.array([])).astype("int32"),
        }
    )
    for column in features:
        out[column] = (rows[column].to_numpy(dtype="float64", na_value=np.nan) if n else np.array([], dtype="float64"))
    out["month"] = pd.array([month] * n, dtype=pd.ArrowDtype(pa.string()))
    return out
