"""Every cleaning rule of transforms/silver/ on hand-made rows, through real Spark (classify)."""

import json

import pytest
from pyspark.sql import types as T

from loan_pipeline.sources.schemas import ATTRIBUTES, FINANCIALS, LMS
from loan_pipeline.transforms.silver.classify import QUARANTINED, QuarantineCount, classify, silver_rows

GOOD_FINANCIALS = {
    "Customer_ID": "CUS_0x1", "Annual_Income": "30625.94", "Monthly_Inhand_Salary": "2706.16", "Num_Bank_Accounts": "6",
    "Num_Credit_Card": "5", "Interest_Rate": "27", "Num_of_Loan": "2", "Type_of_Loan": "Auto Loan, and Payday Loan",
    "Delay_from_due_date": "57", "Num_of_Delayed_Payment": "26", "Changed_Credit_Limit": "1.63", "Num_Credit_Inquiries": "11.0",
    "Credit_Mix": "Bad", "Outstanding_Debt": "1562.91", "Credit_Utilization_Ratio": "30.07", "Credit_History_Age": "10 Years and 9 Months",
    "Payment_of_Min_Amount": "Yes", "Total_EMI_per_month": "42.94", "Amount_invested_monthly": "77.31",
    "Payment_Behaviour": "High_spent_Medium_value_payments", "Monthly_Balance": "400.36", "snapshot_date": "2023-05-01",
}


def _bronze(spark, contract, rows):
    """Rows as bronze holds them: every value text, plus lineage."""
    schema = T.StructType(
        [T.StructField(c, T.StringType()) for c in (*contract.columns, "_source_file")]
        + [T.StructField("_source_row", T.LongType()), T.StructField("month", T.StringType())]
    )
    records = [(*[values.get(c) for c in contract.columns], contract.file_name, i, "2023-05-01") for i, values in enumerate(rows, start=1)]
    return spark.createDataFrame(records, schema)


def _classify(spark, contract, rows):
    df = classify(_bronze(spark, contract, rows), contract, "yyyy-MM-dd")
    classified = [r.asDict() for r in df.orderBy("_source_row").collect()]
    # The quarantine decision (taken from the statuses alone) and the error list always agree.
    assert [r[QUARANTINED] for r in classified] == [bool(r["dq_errors"]) for r in classified]
    return classified


def _financials(spark, **overrides):
    return _classify(spark, FINANCIALS, [{**GOOD_FINANCIALS, **overrides}])[0]


def test_clean_row_has_no_flags_and_typed_values(spark):
    row = _financials(spark)
    assert row["dq_flags"] == [] and row["dq_errors"] == []
    assert row["Annual_Income"] == pytest.approx(30625.94)
    assert row["Num_Bank_Accounts"] == 6
    assert row["Credit_History_Months"] == 129
    assert str(row["snapshot_date"]) == "2023-05-01"
    assert row["raw_record"] is None


@pytest.mark.parametrize(
    "column, raw, expected, flag",
    [
        ("Annual_Income", "52312.68_", 52312.68, "Annual_Income:trailing_underscore"),
        ("Num_of_Loan", "2_", 2, "Num_of_Loan:trailing_underscore"),
        ("Num_of_Delayed_Payment", "18_", 18, "Num_of_Delayed_Payment:trailing_underscore"),
        ("Outstanding_Debt", "2699.17_", 2699.17, "Outstanding_Debt:trailing_underscore"),
        ("Changed_Credit_Limit", "_", None, "Changed_Credit_Limit:placeholder"),
        ("Amount_invested_monthly", "__10000__", None, "Amount_invested_monthly:placeholder"),
        ("Monthly_Balance", "__-333333333333333333333333333__", None, "Monthly_Balance:placeholder"),
        ("Num_of_Loan", "-100", -100, "Num_of_Loan:out_of_range"),  # the sign is kept, the range rule judges it
        ("Num_Bank_Accounts", "1756", 1756, "Num_Bank_Accounts:out_of_range"),
        ("Interest_Rate", "5789", 5789, "Interest_Rate:out_of_range"),
        ("Annual_Income", "23834698.0", 23834698.0, "Annual_Income:out_of_range"),
    ],
)
def test_numeric_rules(spark, column, raw, expected, flag):
    row = _financials(spark, **{column: raw})
    assert row[column] == (pytest.approx(expected) if isinstance(expected, float) else expected)
    assert flag in row["dq_flags"]
    assert row["dq_errors"] == []


@pytest.mark.parametrize(
    "column, raw, expected, flag",
    [
        ("Credit_Mix", "_", None, "Credit_Mix:placeholder"),
        ("Payment_Behaviour", "!@9#%8", None, "Payment_Behaviour:placeholder"),
        ("Payment_of_Min_Amount", "NM", "NM", None),  # NM is a category, not a missing value
        ("Credit_Mix", "Excellent", "Excellent", "Credit_Mix:unknown_category"),
    ],
)
def test_category_rules(spark, column, raw, expected, flag):
    row = _financials(spark, **{column: raw})
    assert row[column] == expected
    assert (flag in row["dq_flags"]) if flag else row["dq_flags"] == []


def test_credit_history_age_text_becomes_months(spark):
    assert _financials(spark, Credit_History_Age="22 Years and 1 Months")["Credit_History_Months"] == 265
    assert _financials(spark, Credit_History_Age="0 Years and 11 Months")["Credit_History_Months"] == 11


def test_empty_type_of_loan_means_no_listed_loan(spark):
    row = _financials(spark, Type_of_Loan=None)
    assert row["Type_of_Loan"] is None and row["dq_flags"] == []


def test_unparseable_values_quarantine_the_row_with_every_reason(spark):
    row = _financials(spark, Interest_Rate="twelve", Credit_History_Age="a long time", snapshot_date="2023-05-01")
    assert sorted(row["dq_errors"]) == [
        "Credit_History_Age=a long time: not 'N Years and M Months'",
        "Interest_Rate=twelve: not a number (int)",
    ]
    assert json.loads(row["raw_record"])["Interest_Rate"] == "twelve"


def test_attributes_rules_and_personal_data(spark):
    rows = _classify(spark, ATTRIBUTES, [
        {"Customer_ID": "CUS_0x1", "Name": "A", "Age": "28_", "SSN": "913-74-1218", "Occupation": "Lawyer", "snapshot_date": "2023-05-01"},
        {"Customer_ID": "CUS_0x2", "Name": "B", "Age": "-500", "SSN": "#F%$D@*&8", "Occupation": "_______", "snapshot_date": "2023-05-01"},
        {"Customer_ID": "CUS_0x3", "Name": "C", "Age": "8678", "SSN": "913-74-121", "Occupation": "Lawyer", "snapshot_date": "2023-05-01"},
    ])
    assert [r["Age"] for r in rows] == [28, -500, 8678]
    assert "Age:trailing_underscore" in rows[0]["dq_flags"]
    assert "Age:out_of_range" in rows[1]["dq_flags"] and "Age:out_of_range" in rows[2]["dq_flags"]
    assert [r["ssn_valid"] for r in rows] == [True, False, False]
    assert rows[1]["Occupation"] is None and "Occupation:placeholder" in rows[1]["dq_flags"]
    silver_columns = silver_rows(classify(_bronze(spark, ATTRIBUTES, [{"Customer_ID": "x", "snapshot_date": "2023-05-01"}]), ATTRIBUTES, "yyyy-MM-dd")).columns
    assert "Name" not in silver_columns and "SSN" not in silver_columns


def test_repeated_key_keeps_first_and_quarantines_the_rest(spark):
    rows = _classify(spark, FINANCIALS, [GOOD_FINANCIALS, GOOD_FINANCIALS, {**GOOD_FINANCIALS, "Annual_Income": "1.0"}])
    assert rows[0]["dq_errors"] == []
    for r in rows[1:]:
        assert r["dq_errors"] == ["duplicate key (Customer_ID, snapshot_date)=CUS_0x1|2023-05-01 first seen at row 1"]


def _lms(installment, due, overdue, snapshot):
    return {"loan_id": "L1", "Customer_ID": "C1", "loan_start_date": "2023-01-01", "tenure": "10", "installment_num": str(installment),
            "loan_amt": "10000", "due_amt": str(due), "paid_amt": "0.0", "overdue_amt": str(overdue), "balance": "10000.0", "snapshot_date": snapshot}


def test_days_past_due_from_installment_history(spark):
    rows = _classify(spark, LMS, [
        _lms(0, 0.0, 0.0, "2023-01-01"),      # nothing due yet
        _lms(5, 1000.0, 0.0, "2023-06-01"),   # paid up
        _lms(6, 1000.0, 1000.0, "2023-07-01"),  # one installment missed: due 2023-06-01 -> 30 days
        _lms(7, 1000.0, 3000.0, "2023-08-01"),  # three missed: first missed due 2023-05-01 -> 92 days
    ])
    assert [r["mob"] for r in rows] == [0, 5, 6, 7]
    assert [r["dpd"] for r in rows] == [0, 0, 30, 92]
    assert [r["installments_missed"] for r in rows] == [0, 0, 1, 3]


def test_date_format_with_quoted_literal_and_values_with_quotes(spark):
    # The rules are Spark SQL text: a configured format with quotes and raw values with quotes or
    # backslashes must reach Spark as data, not as SQL.
    rows = classify(_bronze(spark, FINANCIALS, [{**GOOD_FINANCIALS, "snapshot_date": "01 of 05 2023", "Credit_Mix": "Bad's\\"}]), FINANCIALS, "dd 'of' MM yyyy")
    row = rows.collect()[0].asDict()
    assert str(row["snapshot_date"]) == "2023-05-01"
    assert row["Credit_Mix"] == "Bad's\\" and "Credit_Mix:unknown_category" in row["dq_flags"]


@pytest.mark.parametrize("bad_rows", [0, 2])
def test_quarantine_count_is_observed_while_the_silver_rows_are_collected(spark, bad_rows):
    rows = [{**GOOD_FINANCIALS, "Customer_ID": f"CUS_{i}"} for i in range(3)]
    rows += [{**GOOD_FINANCIALS, "Customer_ID": f"BAD_{i}", "Interest_Rate": "twelve"} for i in range(bad_rows)]
    quarantined = QuarantineCount()
    kept = silver_rows(quarantined.observe(classify(_bronze(spark, FINANCIALS, rows), FINANCIALS, "yyyy-MM-dd"))).collect()
    assert sorted(r["Customer_ID"] for r in kept) == ["CUS_0", "CUS_1", "CUS_2"]
    assert quarantined.rows == bad_rows
