"""Bronze lineage: `_source_row` is the data row number of the file, however Spark splits the read."""

import pandas as pd
import pytest

from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.sources.schemas import CLICKSTREAM, LMS
from loan_pipeline.transforms import bronze


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rows")
    generate_loan_book(folder, customers=300)
    return folder


@pytest.fixture
def small_splits(spark):
    """Split a few-hundred-kB file into many input splits, as Spark does with a large extract."""
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "32k")
    yield
    spark.conf.set("spark.sql.files.maxPartitionBytes", previous)


@pytest.mark.parametrize("contract", [LMS, CLICKSTREAM], ids=lambda c: c.name)
def test_source_row_is_the_data_row_number_across_splits(spark, sample, small_splits, contract):
    raw = bronze.inspect_raw_file(sample, contract)
    df = bronze.read_raw(spark, raw, contract)
    assert df.rdd.getNumPartitions() > 5
    columns = list(dict.fromkeys((*contract.key, contract.date_column)))
    read = df.select(*columns, "_source_row").toPandas()
    expected = pd.read_csv(raw.path, dtype=str, keep_default_na=False)
    expected["_source_row"] = range(1, len(expected) + 1)
    assert len(read) == len(expected)
    assert sorted(read["_source_row"]) == list(expected["_source_row"])
    merged = read.merge(expected[[*columns, "_source_row"]], on="_source_row", suffixes=("", "_file"))
    assert len(merged) == len(expected)
    for column in columns:
        assert (merged[column] == merged[f"{column}_file"]).all(), column


def test_a_one_month_run_stages_that_month_and_every_row_without_a_month(spark, tmp_path, sample):
    """Staging skips the other months' rows, yet still sees a bad row anywhere in the file and the
    month range of the whole file."""
    path = tmp_path / LMS.file_name
    lines = (sample / LMS.file_name).read_text().splitlines()
    date_index = lines[0].split(",").index(LMS.date_column)
    fields = lines[-1].split(",")
    fields[date_index] = "31/12/2024"  # the last row, in a month the run does not ask for
    path.write_text("\n".join([*lines[:-1], ",".join(fields)]) + "\n")
    good_months = pd.to_datetime(pd.read_csv(sample / LMS.file_name, dtype=str)[LMS.date_column].iloc[:-1]).dt.strftime("%Y-%m-01")
    months = sorted(good_months.unique())
    rows = bronze.staged_rows(bronze.with_month(bronze.read_raw(spark, bronze.inspect_raw_file(tmp_path, LMS), LMS), LMS, "yyyy-MM-dd"), LMS)

    coverage = bronze.MonthCoverage()
    staged = bronze.rows_to_stage(rows, [months[1]], coverage).select("month", "_source_row").toPandas()
    assert coverage.describe() == f"{months[0]} .. {months[-1]}"
    assert set(staged["month"]) == {months[1], bronze.INVALID_MONTH}
    assert staged[staged["month"] == bronze.INVALID_MONTH]["_source_row"].tolist() == [len(lines) - 1]
    assert (staged["month"] == months[1]).sum() == (good_months == months[1]).sum()
