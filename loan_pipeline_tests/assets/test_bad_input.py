"""Bad raw input: each defect gets an error or a failed check naming file, column, row and value, and
the month already in the lake stays intact and readable."""

import shutil

import pandas as pd
import pytest

import dagster as dg
from loan_pipeline import lake
from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline_tests.ingest_helpers import check_results, failure_message, ingest_definitions, run_ingest

MONTH = "2023-05-01"


@pytest.fixture(scope="module")
def good_sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    generate_loan_book(folder, customers=200)
    return folder


@pytest.fixture(scope="module")
def lake_home(tmp_path_factory, good_sample, spark_resource):
    """A lake holding a good version of MONTH for every bronze and silver table."""
    home = tmp_path_factory.mktemp("home")
    result = run_ingest(ingest_definitions(home, good_sample, spark_resource), MONTH, MONTH, dg.DagsterInstance.ephemeral(),
                        selection=[f"{layer}_{s}" for layer in ("bronze", "silver") for s in ("lms", "clickstream", "attributes", "financials")])
    assert result.success
    return home


@pytest.fixture
def broken(tmp_path, good_sample):
    folder = tmp_path / "data"
    shutil.copytree(good_sample, folder)
    return folder


def _snapshot(home, table):
    path = home / "datamart" / table.split("_")[0] / table
    return sorted(p.name for p in lake.month_dir(path, MONTH).iterdir()), lake.month_row_counts(path, [MONTH])[MONTH]


def _run(home, data_dir, spark_resource, assets, date_format=""):
    defs = ingest_definitions(home, data_dir, spark_resource, date_format=date_format)
    return run_ingest(defs, MONTH, MONTH, dg.DagsterInstance.ephemeral(), selection=assets)


def _rewrite_csv(path, edit):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(path, index=False)


def _assert_fails_and_keeps_month(lake_home, data_dir, spark_resource, table, *fragments, date_format=""):
    before = _snapshot(lake_home, table)
    result = _run(lake_home, data_dir, spark_resource, [table], date_format)
    assert not result.success
    message = failure_message(result)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message}"
    assert _snapshot(lake_home, table) == before
    return message


def test_one_failing_source_does_not_stop_the_others_of_its_layer(lake_home, broken, spark_resource):
    """The bronze sources run side by side in one step: the good ones land, the step fails naming the bad one."""
    (broken / "features_attributes.csv").unlink()
    before = _snapshot(lake_home, "bronze_attributes")
    result = _run(lake_home, broken, spark_resource, ["bronze_attributes", "bronze_lms", "bronze_financials"])
    assert not result.success
    assert "features_attributes.csv" in failure_message(result) and "does not exist" in failure_message(result)
    landed = {m.asset_key.to_user_string() for m in result.asset_materializations_for_node("bronze")}
    assert landed == {"bronze_lms", "bronze_financials"}
    checks = check_results(result)
    assert {key[0] for key in checks} == {"bronze_lms", "bronze_financials"}
    assert _snapshot(lake_home, "bronze_attributes") == before


def test_missing_file(lake_home, broken, spark_resource):
    (broken / "features_attributes.csv").unlink()
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_attributes", "features_attributes.csv", "does not exist")


def test_renamed_column(lake_home, broken, spark_resource):
    _rewrite_csv(broken / "features_attributes.csv", lambda f: f.rename(columns={"Age": "age_years"}, inplace=True))
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_attributes",
                                  "features_attributes.csv", "missing columns ['Age']", "unexpected columns ['age_years']")


def test_missing_column(lake_home, broken, spark_resource):
    _rewrite_csv(broken / "features_financials.csv", lambda f: f.drop(columns=["Credit_Mix"], inplace=True))
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_financials", "missing columns ['Credit_Mix']")


def test_unparseable_date(lake_home, broken, spark_resource):
    _rewrite_csv(broken / "lms_loan_daily.csv", lambda f: f.loc.__setitem__((6, "snapshot_date"), "2023-13-45"))
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_lms",
                                  "lms_loan_daily.csv", "row 7", "snapshot_date", "'2023-13-45'")


def test_dates_in_another_format_fail_unless_configured(lake_home, broken, spark_resource):
    def us_dates(frame):
        frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.strftime("%m/%d/%Y")
    _rewrite_csv(broken / "features_attributes.csv", us_dates)
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_attributes", "format 'yyyy-MM-dd'", "/20")
    result = _run(lake_home, broken, spark_resource, ["bronze_attributes"], date_format="MM/dd/yyyy")
    assert result.success


def test_truncated_last_line(lake_home, broken, spark_resource):
    path = broken / "feature_clickstream.csv"
    content = path.read_bytes().rstrip(b"\n")
    path.write_bytes(content[: content.rfind(b",", 0, len(content) - 30)])  # cut the last row mid-way
    rows = content.count(b"\n")
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_clickstream",
                                  "feature_clickstream.csv", f"row {rows}", "malformed record")


def test_non_utf8_bytes(lake_home, broken, spark_resource):
    path = broken / "features_attributes.csv"
    lines = path.read_bytes().split(b"\n")
    fields = lines[3].split(b",")
    fields[4] = b"Engin\xe9er"  # Latin-1 bytes in the Occupation column
    lines[3] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    _assert_fails_and_keeps_month(lake_home, broken, spark_resource, "bronze_attributes",
                                  "features_attributes.csv", "not valid UTF-8", "data row 3", "column Occupation", "\\xe9")


def test_empty_month_fails_the_check_naming_file_and_month(lake_home, broken, spark_resource):
    _rewrite_csv(broken / "lms_loan_daily.csv", lambda f: f.drop(f.index[f["snapshot_date"] == MONTH], inplace=True))
    result = _run(lake_home, broken, spark_resource, ["bronze_lms"])
    check = check_results(result)[("bronze_lms", "month_not_empty")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "lms_loan_daily.csv" in check.description and MONTH in check.description and "snapshot_date" in check.description


def test_duplicated_rows_are_quarantined_not_dropped(lake_home, broken, spark_resource):
    path = broken / "features_financials.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = frame[frame["snapshot_date"] == MONTH].iloc[0]
    pd.concat([frame, row.to_frame().T], ignore_index=True).to_csv(path, index=False)
    result = _run(lake_home, broken, spark_resource, ["bronze_financials", "silver_financials"])
    assert result.success
    checks = check_results(result)
    assert checks[("silver_financials", "reconciles_with_bronze")].passed
    quarantine = lake.read_months_pandas(lake_home / "datamart" / "silver" / "quarantine_financials", [MONTH])
    assert len(quarantine) == 1
    assert quarantine.iloc[0]["reasons"][0].startswith(f"duplicate key (Customer_ID, snapshot_date)={row['Customer_ID']}|{MONTH}")
    assert quarantine.iloc[0]["_source_row"] == len(frame) + 1


def test_unparseable_value_quarantines_the_row_with_its_reason(lake_home, broken, spark_resource):
    path = broken / "features_attributes.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    index = frame.index[frame["snapshot_date"] == MONTH][0]
    frame.loc[index, "Age"] = "forty"
    frame.to_csv(path, index=False)
    result = _run(lake_home, broken, spark_resource, ["bronze_attributes", "silver_attributes"])
    assert result.success
    quarantine = lake.read_months_pandas(lake_home / "datamart" / "silver" / "quarantine_attributes", [MONTH])
    assert list(quarantine["reasons"].iloc[0]) == ["Age=forty: not a number (int)"]
    assert quarantine["_source_row"].iloc[0] == index + 1
    assert check_results(result)[("silver_attributes", "reconciles_with_bronze")].passed
