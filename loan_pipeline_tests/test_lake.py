"""The lake never shows a half-written month: staging, swap, recovery after a crash."""

import os

import pandas as pd
import pytest

from loan_pipeline import lake
from loan_pipeline.transforms.spark_lake import write_months


def _frame(month, n, value):
    return pd.DataFrame({"x": [value] * n, "month": [month] * n})


def test_write_replaces_only_the_given_months(tmp_path):
    table = tmp_path / "t"
    lake.write_months_pandas(pd.concat([_frame("2023-01-01", 2, 1), _frame("2023-02-01", 3, 1)]), table, ["2023-01-01", "2023-02-01"])
    lake.write_months_pandas(_frame("2023-02-01", 5, 2), table, ["2023-02-01"])
    data = lake.read_months_pandas(table)
    assert data.groupby("month")["x"].agg(["size", "max"]).to_dict() == {"size": {"2023-01-01": 2, "2023-02-01": 5}, "max": {"2023-01-01": 1, "2023-02-01": 2}}


def test_an_empty_month_becomes_a_readable_empty_partition(tmp_path):
    table = tmp_path / "t"
    lake.write_months_pandas(_frame("2023-01-01", 2, 1), table, ["2023-01-01", "2023-02-01"])
    assert lake.month_row_counts(table, ["2023-01-01", "2023-02-01"]) == {"2023-01-01": 2, "2023-02-01": 0}


def test_rows_outside_the_requested_months_are_refused(tmp_path):
    with pytest.raises(ValueError, match="outside the months being written"):
        lake.write_months_pandas(_frame("2023-03-01", 1, 1), tmp_path / "t", ["2023-01-01"])


def test_a_crash_between_the_two_renames_is_recovered(tmp_path, monkeypatch):
    table = tmp_path / "t"
    lake.write_months_pandas(_frame("2023-01-01", 2, 1), table, ["2023-01-01"])
    real_rename = os.rename
    calls = []

    def dying_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the old version is in _trash, the new one not yet in place
            raise KeyboardInterrupt("killed")
        real_rename(src, dst)

    monkeypatch.setattr(lake.os, "rename", dying_rename)
    with pytest.raises(KeyboardInterrupt):
        lake.write_months_pandas(_frame("2023-01-01", 7, 2), table, ["2023-01-01"])
    monkeypatch.setattr(lake.os, "rename", real_rename)
    assert lake.recover(table) == ["2023-01-01"]
    data = lake.read_months_pandas(table)
    assert len(data) == 2 and set(data["x"]) == {1}  # the previous version, whole


def test_a_failed_spark_write_leaves_the_previous_version(tmp_path, spark):
    table = tmp_path / "t"
    lake.write_months_pandas(_frame("2023-01-01", 2, 1), table, ["2023-01-01"])
    # A division by zero under ANSI mode fails the Spark job part-way through writing.
    bad = spark.range(1000).selectExpr("CAST(id AS DOUBLE) AS x", "'2023-01-01' AS month").selectExpr("x / (x - 500) AS x", "month")
    with pytest.raises(Exception):
        write_months(bad, table, ["2023-01-01"])
    assert lake.read_months_pandas(table)["x"].tolist() == [1, 1]
    assert not any((table / "_staging").iterdir())
