"""Small inputs run on a session with Spark's interpreted expressions (spark_lake.session_for_rows):
same rows out, on the generated sample with every kind of dirty value."""

import pytest

from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.sources.schemas import SOURCES
from loan_pipeline.transforms import bronze
from loan_pipeline.transforms.silver import classify as silver
from loan_pipeline.transforms.spark_lake import INTERPRETED_BELOW_ROWS, INTERPRETED_CONF, session_for_rows


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interpreted")
    generate_loan_book(folder, customers=300)
    return folder


# Every kind of dirty value, put into every column of a real row (plus a repeat of that row's key), so
# that each rule's flag and quarantine branch is compared, whichever of them the sample happens to hit.
DIRTY_VALUES = ["", "_", "_______", "!@9#%8", "__10000__", "__-333__", "12_", "52312.68_", "abc", " 7 ", "-5", "NM", "1e9"]


def _bronze_rows(spark, folder, contract):
    raw = bronze.inspect_raw_file(folder, contract)
    rows = bronze.staged_rows(bronze.with_month(bronze.read_raw(spark, raw, contract), contract, "yyyy-MM-dd"), contract)
    good = rows.orderBy("_source_row").first().asDict()
    id_column = contract.key[0]  # a text id: a suffix gives each dirty row a key of its own
    dirty = [
        {**good, id_column: f"{good[id_column]}_dirty{i}", column: value}
        for i, (column, value) in enumerate((c, v) for c in contract.columns for v in DIRTY_VALUES)
    ]
    dirty = [{**row, "_source_row": 1_000_000 + i} for i, row in enumerate([good, *dirty])]  # good again: a repeated key
    return rows.unionByName(spark.createDataFrame(dirty, rows.schema))


def _compiled_stages(df) -> int:
    """Whole-stage generated code in the plan Spark ran for `df` (its final adaptive plan, once collected)."""
    return df._jdf.queryExecution().executedPlan().toString().count("*(")


def test_large_inputs_keep_the_session_and_small_ones_get_an_interpreted_one(spark):
    assert session_for_rows(spark, INTERPRETED_BELOW_ROWS) is spark
    small = session_for_rows(spark, INTERPRETED_BELOW_ROWS - 1)
    assert small is not spark
    assert small.sparkContext is spark.sparkContext  # same application, same JVM
    assert {k: small.conf.get(k) for k in INTERPRETED_CONF} == INTERPRETED_CONF
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "true"  # the shared session is left alone
    assert small.conf.get("spark.sql.session.timeZone") == "UTC"


def test_settings_changed_at_run_time_carry_over(spark):
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        assert session_for_rows(spark, 10).conf.get("spark.sql.shuffle.partitions") == "7"
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_silver_classifies_the_same_rows_interpreted_and_compiled(spark, sample, name):
    contract = SOURCES[name]
    small = session_for_rows(spark, 0)
    compiled = silver.classify(_bronze_rows(spark, sample, contract), contract, "yyyy-MM-dd").orderBy("_source_row")
    interpreted = silver.classify(_bronze_rows(small, sample, contract), contract, "yyyy-MM-dd").orderBy("_source_row")
    expected = [r.asDict() for r in compiled.collect()]
    got = [r.asDict() for r in interpreted.collect()]
    assert _compiled_stages(compiled) > 0
    assert _compiled_stages(interpreted) == 0
    assert len(got) == len(expected) >= 300  # every generated row: at least one per customer
    assert got == expected
    quarantined = [r for r in got if r[silver.QUARANTINED]]
    flagged = [r for r in got if r["dq_flags"] and not r[silver.QUARANTINED]]
    assert any(e.startswith("duplicate key") for r in quarantined for e in r["dq_errors"])
    assert len(quarantined) > len(contract.columns) and len(flagged) > len(contract.columns)
