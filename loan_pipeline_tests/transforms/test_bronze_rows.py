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
