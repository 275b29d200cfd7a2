"""The monthly loan-book rules: flagged values as missing, the rows of a month, one schema for every month."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline.transforms.segmentation.loan_book import (
    loan_book_segments_frame, mask_flagged_out_of_range, month_rows,
)
from loan_pipeline.transforms.segmentation.pipeline import segment_customers


def test_flagged_out_of_range_values_count_as_missing():
    rows = pd.DataFrame({"a": [1.0, 2.0, 1e9], "b": [1.0, 2.0, 3.0],
                         "dq_flags": [[], None, ["a:out_of_range", "b:placeholder"]]})
    out = mask_flagged_out_of_range(rows, ["a", "b"])
    assert out["a"].isna().tolist() == [False, False, True]
    assert out["b"].tolist() == [1.0, 2.0, 3.0]
    assert rows["a"].iloc[2] == 1e9  # input untouched


def test_month_rows_keeps_rows_dated_in_the_month():
    df = pd.DataFrame({"Customer_ID": ["a", "b", "c"], "snapshot_date": pd.to_datetime(["2023-01-01", "2023-01-31", "2023-02-01"]).date})
    assert month_rows(df, "2023-01-01", "x")["Customer_ID"].tolist() == ["a", "b"]
    with pytest.raises(SegmentationInputError, match=r"missing column\(s\) \['snapshot_date'\]"):
        month_rows(df.drop(columns=["snapshot_date"]), "2023-01-01", "silver")


def test_empty_and_full_months_write_the_same_schema():
    features = ["a", "b"]
    rows = pd.DataFrame({"Customer_ID": ["x", "y", "z", "w"], "snapshot_date": pd.to_datetime(["2023-01-02"] * 4).date,
                         "a": [0.0, 0.1, 5.0, 5.1], "b": [0.0, 0.1, 5.0, 5.2]})
    result = segment_customers(rows, features, 49, "x", reduce_k=True)
    assert result.elbow.max_k == 3  # 4 rows: K lowered to n - 1
    full = loan_book_segments_frame(rows, result, features, "2023-01-01")
    empty = loan_book_segments_frame(rows.iloc[:0], None, features, "2023-02-01")
    assert len(empty) == 0
    assert pa.Schema.from_pandas(full, preserve_index=False) == pa.Schema.from_pandas(empty, preserve_index=False)
    assert pa.Schema.from_pandas(full, preserve_index=False).field("snapshot_date").type == pa.date32()
