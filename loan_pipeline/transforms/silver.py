"""Silver: typed and cleaned rows, each carrying the data-quality flags it raised.

Cleaning rules (the one place they are defined; each has a unit test):
- Placeholders stand for "unknown" and become null, flagged `<col>:placeholder`:
  a run of underscores (`_`, `_______`), `!@9#%8`, and numbers wrapped in double underscores
  (`__10000__`, `__-333333333333333333333333333__`) — the extract's sentinel values.
- A trailing underscore on a number (`52312.68_`, `2_`) is a formatting artefact: it is stripped
  and the value kept, flagged `<col>:trailing_underscore`.
- Signs are kept. A value outside its plausible range (RANGES) is kept as it is and flagged
  `<col>:out_of_range`; gold decides what a model may use.
- `NM` in Payment_of_Min_Amount is a category ("not mentioned"), not a missing value.
- A category outside the known vocabulary is kept and flagged `<col>:unknown_category`.
- `Credit_History_Age` ("22 Years and 1 Months") becomes `Credit_History_Months` (265).
- `Type_of_Loan` is a comma list ("A, B, and C"); an empty value means no loan type is listed.
- `Name` and `SSN` stop here: silver keeps `ssn_valid` (###-##-#### format) only.
- Loans get months-on-book (`mob` = installment_num) and days past due (`dpd`): installments
  missed = ceil(overdue_amt / due_amt); dpd = days from the first missed due date to the snapshot.
- A value that is none of the above and still does not parse as its type, an empty key, or an
  unparseable date quarantines the row (with every reason); so does a repeated key (the first row
  by source position is kept, later ones are quarantined naming it). Nothing is dropped silently:
  bronze rows = silver rows + quarantined rows, per month, and a check asserts it.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from loan_pipeline.sources.schemas import (
    ATTRIBUTES, CREDIT_MIX, LMS, OCCUPATIONS, PAYMENT_BEHAVIOURS, PAYMENT_OF_MIN_AMOUNT, SourceContract,
)

PLACEHOLDER_PATTERN = r"^(_+|!@9#%8|__-?[0-9]+__)$"
TRAILING_UNDERSCORE_PATTERN = r"^-?[0-9.]+_+$"
SSN_PATTERN = r"^[0-9]{3}-[0-9]{2}-[0-9]{4}$"
CREDIT_HISTORY_PATTERN = r"^([0-9]+) Years? and ([0-9]+) Months?$"

# Plausible ranges (inclusive). Values outside are flagged, not changed.
RANGES: dict[str, tuple[float, float]] = {
    "Age": (14, 100),
    "Annual_Income": (0, 500_000),
    "Monthly_Inhand_Salary": (0, 50_000),
    "Num_Bank_Accounts": (0, 20),
    "Num_Credit_Card": (0, 20),
    "Interest_Rate": (0, 50),
    "Num_of_Loan": (0, 20),
    "Delay_from_due_date": (-10, 120),
    "Num_of_Delayed_Payment": (0, 50),
    "Changed_Credit_Limit": (-50, 50),
    "Num_Credit_Inquiries": (0, 50),
    "Outstanding_Debt": (0, 100_000),
    "Credit_Utilization_Ratio": (0, 100),
    "Credit_History_Months": (0, 12 * 80),
    "Total_EMI_per_month": (0, 10_000),
    "Amount_invested_monthly": (0, 10_000),
    "Monthly_Balance": (-10_000, 100_000),
    "tenure": (1, 600),
    "installment_num": (0, 600),
    "loan_amt": (0, 10_000_000),
    "due_amt": (0, 10_000_000),
    "paid_amt": (0, 10_000_000),
    "overdue_amt": (0, 10_000_000),
    "balance": (0, 10_000_000),
}

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "Occupation": OCCUPATIONS,
    "Credit_Mix": CREDIT_MIX,
    "Payment_of_Min_Amount": PAYMENT_OF_MIN_AMOUNT,
    "Payment_Behaviour": PAYMENT_BEHAVIOURS,
}

# Free-text columns: placeholders are nulled, nothing else is checked.
FREE_TEXT = {"loan_id", "Customer_ID", "Type_of_Loan"}
NUMERIC_TYPES = {"int", "double"}


class _Rules:
    """Collects, per column, the flag / error expressions it raises."""

    def __init__(self) -> None:
        self.flag_conditions: list[F.Column] = []
        self.flags: list[F.Column] = []
        self.error_conditions: list[F.Column] = []
        self.errors: list[F.Column] = []

    def flag(self, condition: F.Column, name: str) -> None:
        self.flag_conditions.append(condition)
        self.flags.append(F.when(condition, F.lit(name)))

    def error(self, condition: F.Column, column: str, raw: F.Column, reason: str) -> None:
        self.error_conditions.append(condition)
        self.errors.append(F.when(condition, F.concat(F.lit(f"{column}="), F.coalesce(raw, F.lit("<empty>")), F.lit(f": {reason}"))))

    @staticmethod
    def _collect(conditions: list[F.Column], items: list[F.Column]) -> F.Column:
        # Most rows are clean: build the array only for rows where some condition holds.
        if not items:
            return F.array().cast("array<string>")
        raised = F.lit(False)
        for condition in conditions:
            raised = raised | F.coalesce(condition, F.lit(False))
        return F.when(raised, F.array_compact(F.array(*items))).otherwise(F.array().cast("array<string>"))

    def flag_array(self) -> F.Column:
        return self._collect(self.flag_conditions, self.flags)

    def error_array(self) -> F.Column:
        return self._collect(self.error_conditions, self.errors)


def _raw(column: str) -> F.Column:
    return F.trim(F.col(column))


def _is_empty(raw: F.Column) -> F.Column:
    return raw.isNull() | (raw == "")


def _numeric(rules: _Rules, column: str, spark_type: str) -> F.Column:
    raw = _raw(column)
    # Most values are plain numbers: the regex rules run only where the direct cast fails.
    direct = raw.try_cast(spark_type)
    dirty = direct.isNull() & ~_is_empty(raw)
    placeholder = dirty & raw.rlike(PLACEHOLDER_PATTERN)
    trailing = dirty & raw.rlike(TRAILING_UNDERSCORE_PATTERN)
    value = F.coalesce(direct, F.when(trailing, F.regexp_replace(raw, "_+$", "").try_cast(spark_type)))
    rules.flag(placeholder, f"{column}:placeholder")
    rules.flag(trailing, f"{column}:trailing_underscore")
    rules.flag(_is_empty(raw), f"{column}:missing")
    rules.error(dirty & ~placeholder & value.isNull(), column, raw, f"not a number ({spark_type})")
    if column in RANGES:
        low, high = RANGES[column]
        rules.flag((value < low) | (value > high), f"{column}:out_of_range")
    return value.alias(column)


def _category(rules: _Rules, column: str) -> F.Column:
    raw = _raw(column)
    placeholder = raw.rlike(PLACEHOLDER_PATTERN)
    value = F.when(placeholder | _is_empty(raw), F.lit(None)).otherwise(raw)
    rules.flag(placeholder, f"{column}:placeholder")
    rules.flag(_is_empty(raw), f"{column}:missing")
    rules.flag(value.isNotNull() & ~value.isin(list(VOCABULARIES[column])), f"{column}:unknown_category")
    return value.alias(column)


def _text(rules: _Rules, column: str, key: bool) -> F.Column:
    raw = _raw(column)
    placeholder = raw.rlike(PLACEHOLDER_PATTERN)
    value = F.when(placeholder | _is_empty(raw), F.lit(None)).otherwise(raw)
    if key:
        rules.error(value.isNull(), column, raw, "key is empty")
    else:
        rules.flag(placeholder, f"{column}:placeholder")
    return value.alias(column)


def _date(rules: _Rules, column: str, date_format: str) -> F.Column:
    raw = _raw(column)
    value = F.to_date(F.try_to_timestamp(raw, F.lit(date_format)))
    rules.error(value.isNull(), column, raw, f"not a date in format {date_format}")
    return value.alias(column)


def _credit_history_months(rules: _Rules) -> F.Column:
    raw = _raw("Credit_History_Age")
    years = F.regexp_extract(raw, CREDIT_HISTORY_PATTERN, 1)
    months = F.regexp_extract(raw, CREDIT_HISTORY_PATTERN, 2)
    matched = raw.rlike(CREDIT_HISTORY_PATTERN)
    rules.flag(_is_empty(raw), "Credit_History_Months:missing")
    rules.error(~_is_empty(raw) & ~matched, "Credit_History_Age", raw, "not 'N Years and M Months'")
    value = F.when(matched, years.cast("int") * 12 + months.cast("int"))
    rules.flag((value < 0) | (value > RANGES["Credit_History_Months"][1]), "Credit_History_Months:out_of_range")
    return value.alias("Credit_History_Months")


def _typed_columns(contract: SourceContract, rules: _Rules, date_format: str) -> list[F.Column]:
    columns = []
    for column, spark_type in contract.silver_types.items():
        if column == "Credit_History_Months":
            columns.append(_credit_history_months(rules))
        elif spark_type == "date":
            columns.append(_date(rules, column, date_format))
        elif spark_type in NUMERIC_TYPES:
            columns.append(_numeric(rules, column, spark_type))
        elif column in VOCABULARIES:
            columns.append(_category(rules, column))
        else:
            columns.append(_text(rules, column, key=column in contract.key or column == "Customer_ID"))
    return columns


def _extra_columns(contract: SourceContract) -> list[F.Column]:
    if contract is ATTRIBUTES:
        return [F.coalesce(_raw("SSN").rlike(SSN_PATTERN), F.lit(False)).alias("ssn_valid")]
    return []


def add_days_past_due(df: DataFrame) -> DataFrame:
    """mob and dpd for LMS snapshots (the CS611 definition)."""
    missed = F.when(F.col("due_amt") > 0, F.ceil(F.col("overdue_amt") / F.col("due_amt"))).otherwise(F.lit(0))
    first_missed = F.add_months(F.col("snapshot_date"), -missed.cast("int"))
    dpd = F.when(F.col("overdue_amt") > 0, F.datediff(F.col("snapshot_date"), first_missed)).otherwise(F.lit(0))
    return df.withColumn("mob", F.col("installment_num")).withColumn("installments_missed", missed.cast("int")).withColumn("dpd", dpd.cast("int"))


def classify(bronze: DataFrame, contract: SourceContract, date_format: str) -> DataFrame:
    """Type and clean every bronze row; returns all rows with `dq_flags` and `dq_errors` arrays."""
    rules = _Rules()
    typed = _typed_columns(contract, rules, date_format)
    extra = _extra_columns(contract)
    raw_columns = [F.col(c).alias(f"_raw_{c}") for c in contract.columns]
    df = bronze.select(
        *typed,
        *extra,
        rules.flag_array().alias("dq_flags"),
        rules.error_array().alias("dq_errors"),
        *raw_columns,
        "_source_file",
        "_source_row",
        "month",
    )
    # Repeated keys: keep the first row by source position, quarantine the rest naming it.
    window = Window.partitionBy(*contract.key).orderBy("_source_row")
    first_row = F.first("_source_row").over(window)
    repeated = F.row_number().over(window) > 1
    key_text = F.concat_ws("|", *[F.col(k).cast("string") for k in contract.key])
    duplicate_reason = F.concat(F.lit(f"duplicate key ({', '.join(contract.key)})="), key_text, F.lit(" first seen at row "), first_row.cast("string"))
    df = df.withColumn(
        "dq_errors", F.when(repeated, F.array_append(F.col("dq_errors"), duplicate_reason)).otherwise(F.col("dq_errors"))
    )
    # The raw record is kept only for quarantined rows, for the error report.
    raw_struct = F.struct(*[F.col(f"_raw_{c}").alias(c) for c in contract.columns])
    df = df.withColumn("raw_record", F.when(F.size("dq_errors") > 0, F.to_json(raw_struct))).drop(*[f"_raw_{c}" for c in contract.columns])
    if contract is LMS:
        df = add_days_past_due(df)
    return df


def silver_rows(classified: DataFrame) -> DataFrame:
    return classified.filter(F.size("dq_errors") == 0).drop("dq_errors", "raw_record")


def quarantine_rows(classified: DataFrame, contract: SourceContract) -> DataFrame:
    return classified.filter(F.size("dq_errors") > 0).select(
        F.lit(contract.name).alias("source"),
        "_source_file",
        "_source_row",
        F.col("dq_errors").alias("reasons"),
        "raw_record",
        "month",
    )


def flag_counts(silver: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{month: {flag: rows}} from a silver frame holding `month` and `dq_flags`."""
    flags = silver[["month", "dq_flags"]].explode("dq_flags").dropna()
    counts: dict[str, dict[str, int]] = {}
    for (month, flag), n in flags.groupby(["month", "dq_flags"]).size().items():
        counts.setdefault(month, {})[flag] = int(n)
    return counts


def flagged_row_counts(silver: pd.DataFrame) -> dict[str, int]:
    flagged = silver[silver["dq_flags"].map(len) > 0]
    return {m: int(n) for m, n in flagged.groupby("month").size().items()}


def duplicate_key_rows(silver: pd.DataFrame, contract: SourceContract) -> int:
    """Rows sharing a key with another row (0 after the de-duplication above; the check proves it)."""
    return int(silver.duplicated(list(contract.key), keep=False).sum())


ARROW_TYPES = {"string": "string", "int": "int32", "double": "double", "date": "date32[day]"}
LMS_DERIVED = {"mob": "int32", "installments_missed": "int32", "dpd": "int32"}


def silver_schema(contract: SourceContract) -> dict[str, str]:
    """The Arrow schema silver writes for a source (the schema-contract check compares against it)."""
    schema = {c: ARROW_TYPES[t] for c, t in contract.silver_types.items()}
    if contract is ATTRIBUTES:
        schema["ssn_valid"] = "bool"
    schema.update({"dq_flags": "list<element: string>", "_source_file": "string", "_source_row": "int64"})
    if contract is LMS:
        schema.update(LMS_DERIVED)
    return schema
