"""Reading and validating the CC GENERAL files and the selected feature columns."""

from __future__ import annotations

import numpy as np
import pytest

from loan_pipeline.transforms.segmentation.inputs import (
    DEFAULT_CC_FEATURES, SegmentationInputError, feature_matrix, load_cc_customers, load_cc_test,
)
from loan_pipeline_tests.transforms.segmentation.samples import write_cc


def test_missing_feature_column_names_source_and_column(sample_customers):
    with pytest.raises(SegmentationInputError, match=r"file.csv: missing feature column\(s\) \['NOPE'\]"):
        feature_matrix(sample_customers, ["BALANCE", "NOPE"], "file.csv")


def test_all_empty_feature_column_is_an_error(sample_customers):
    df = sample_customers.assign(PURCHASES=np.nan)
    with pytest.raises(SegmentationInputError, match="feature column PURCHASES is empty"):
        feature_matrix(df, DEFAULT_CC_FEATURES, "file.csv")


def test_load_cc_customers_rejects_a_missing_column(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.drop(columns=["CREDIT_LIMIT"]))
    with pytest.raises(SegmentationInputError, match=r"file.csv: missing column\(s\) \['CREDIT_LIMIT'\]"):
        load_cc_customers(folder / "file.csv")


def test_load_cc_customers_rejects_an_all_empty_column(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers.assign(BALANCE=""))
    with pytest.raises(SegmentationInputError, match=r"file.csv: column BALANCE is empty"):
        load_cc_customers(folder / "file.csv")


def test_load_cc_customers_names_a_non_numeric_value_and_its_line(tmp_path, sample_customers):
    df = sample_customers.astype({"PURCHASES": object})
    df.loc[4, "PURCHASES"] = "12,5x"
    folder = write_cc(tmp_path / "cc", df)
    with pytest.raises(SegmentationInputError, match=r"column PURCHASES has 1 non-numeric values, e.g. \[\"line 6: '12,5x'\"\]"):
        load_cc_customers(folder / "file.csv")


def test_load_cc_customers_rejects_duplicated_ids(tmp_path, sample_customers):
    df = sample_customers.copy()
    df.loc[3, "CUST_ID"] = df.loc[2, "CUST_ID"]
    folder = write_cc(tmp_path / "cc", df)
    with pytest.raises(SegmentationInputError, match="CUST_ID has 1 duplicated ids"):
        load_cc_customers(folder / "file.csv")


def test_test_csv_with_other_columns_is_an_error(tmp_path, sample_customers):
    folder = write_cc(tmp_path / "cc", sample_customers, "BALANCE,PURCHASES,PAYMENTS\n1,2,3")
    with pytest.raises(SegmentationInputError, match=r"test.csv: .*missing \['CREDIT_LIMIT'\], unexpected \['PAYMENTS'\]"):
        load_cc_test(folder / "test.csv", DEFAULT_CC_FEATURES)


def test_test_csv_columns_in_another_order_are_accepted(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("CREDIT_LIMIT,BALANCE,PURCHASES\n1000,20,3")
    test = load_cc_test(path, DEFAULT_CC_FEATURES)
    assert test.loc[0, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]].tolist() == [20.0, 3.0, 1000.0]
    assert test.loc[0, "CUST_ID"] == "TEST-1"
