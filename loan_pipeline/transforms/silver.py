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

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, Observation
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

NUMERIC_TYPES = {"int", "double"}

# Every column gets one status per row: NULL (clean), a flag code (the row is kept and flagged
# `<column>:<code>`) or INVALID (the row is quarantined with the column's reason).
INVALID = "invalid"
# classify's boolean column: the row breaks a rule that quarantines it (dq_errors is not empty).
QUARANTINED = "_quarantined"


def _sql_text(value: str) -> str:
    """A Spark SQL string literal (Spark SQL treats a backslash as an escape character)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return f"`{name}`"


@dataclass(frozen=True)
class _ColumnRule:
    """How one silver column is derived from its raw text, as Spark SQL over the bronze row.

    The rules are SQL text so a whole table's cleaning is sent to Spark in a few calls; built
    column by column through the DataFrame API it took thousands of Python-to-JVM round trips."""

    column: str  # the silver column
    source: str  # the raw column it is read from (named in error messages)
    value: str  # SQL: the typed value
    status: str  # SQL: NULL, a flag code, or INVALID
    reason: str = ""  # why INVALID quarantines the row


def _trimmed(column: str) -> str:
    return f"trim({_ident(column)})"


def _empty(raw: str) -> str:
    return f"({raw} IS NULL OR {raw} = '')"


def _numeric_rule(column: str, spark_type: str) -> _ColumnRule:
    raw = _trimmed(column)
    # Most values are plain numbers: the regex rules only decide what a failed direct cast means.
    direct = f"try_cast({raw} AS {spark_type})"
    without_underscores = f"try_cast(regexp_replace({raw}, '_+$', '') AS {spark_type})"
    trailing = f"{raw} RLIKE {_sql_text(TRAILING_UNDERSCORE_PATTERN)}"
    return _ColumnRule(
        column, column,
        value=f"coalesce({direct}, CASE WHEN {trailing} THEN {without_underscores} END)",
        status=(
            f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN {direct} IS NOT NULL THEN NULL "
            f"WHEN {raw} RLIKE {_sql_text(PLACEHOLDER_PATTERN)} THEN 'placeholder' "
            f"WHEN {trailing} AND {without_underscores} IS NOT NULL THEN 'trailing_underscore' ELSE '{INVALID}' END"
        ),
        reason=f"not a number ({spark_type})",
    )


def _category_rule(column: str) -> _ColumnRule:
    raw = _trimmed(column)
    placeholder = f"{raw} RLIKE {_sql_text(PLACEHOLDER_PATTERN)}"
    vocabulary = ", ".join(_sql_text(v) for v in VOCABULARIES[column])
    return _ColumnRule(
        column, column,
        value=f"CASE WHEN {_empty(raw)} OR {placeholder} THEN NULL ELSE {raw} END",
        status=(
            f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN {placeholder} THEN 'placeholder' "
            f"WHEN {raw} NOT IN ({vocabulary}) THEN 'unknown_category' END"
        ),
    )


def _text_rule(column: str, key: bool) -> _ColumnRule:
    """Free text (ids, Type_of_Loan): placeholders are nulled, nothing else is checked; an empty key quarantines."""
    raw = _trimmed(column)
    placeholder = f"{raw} RLIKE {_sql_text(PLACEHOLDER_PATTERN)}"
    value = f"CASE WHEN {_empty(raw)} OR {placeholder} THEN NULL ELSE {raw} END"
    if key:
        return _ColumnRule(column, column, value, f"CASE WHEN {_empty(raw)} OR {placeholder} THEN '{INVALID}' END", "key is empty")
    return _ColumnRule(column, column, value, f"CASE WHEN {placeholder} THEN 'placeholder' END")


def _date_rule(column: str, date_format: str) -> _ColumnRule:
    value = f"to_date(try_to_timestamp({_trimmed(column)}, {_sql_text(date_format)}))"
    return _ColumnRule(column, column, value, f"CASE WHEN {value} IS NULL THEN '{INVALID}' END", f"not a date in format {date_format}")


def _credit_history_rule() -> _ColumnRule:
    raw = _trimmed("Credit_History_Age")
    pattern = _sql_text(CREDIT_HISTORY_PATTERN)
    return _ColumnRule(
        "Credit_History_Months", "Credit_History_Age",
        value=(
            f"CASE WHEN {raw} RLIKE {pattern} THEN "
            f"cast(regexp_extract({raw}, {pattern}, 1) AS int) * 12 + cast(regexp_extract({raw}, {pattern}, 2) AS int) END"
        ),
        status=f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN NOT {raw} RLIKE {pattern} THEN '{INVALID}' END",
        reason="not 'N Years and M Months'",
    )


def column_rules(contract: SourceContract, date_format: str) -> list[_ColumnRule]:
    rules = []
    for column, spark_type in contract.silver_types.items():
        if column == "Credit_History_Months":
            rules.append(_credit_history_rule())
        elif spark_type == "date":
            rules.append(_date_rule(column, date_format))
        elif spark_type in NUMERIC_TYPES:
            rules.append(_numeric_rule(column, spark_type))
        elif column in VOCABULARIES:
            rules.append(_category_rule(column))
        else:
            rules.append(_text_rule(column, key=column in contract.key or column == "Customer_ID"))
    return rules


def _flags(rule: _ColumnRule) -> list[str]:
    value, status = _ident(f"_v_{rule.column}"), _ident(f"_s_{rule.column}")
    flags = [f"CASE WHEN {status} <> '{INVALID}' THEN concat('{rule.column}:', {status}) END"]
    if rule.column in RANGES:
        low, high = RANGES[rule.column]
        flags.append(f"CASE WHEN {value} < {low} OR {value} > {high} THEN '{rule.column}:out_of_range' END")
    return flags


def _error(rule: _ColumnRule) -> str:
    message = f"concat('{rule.source}=', coalesce({_trimmed(rule.source)}, '<empty>'), {_sql_text(': ' + rule.reason)})"
    return f"CASE WHEN {_ident('_s_' + rule.column)} = '{INVALID}' THEN {message} END"


def _present(items) -> str:
    """SQL: the array of the non-null `items` (strings), in order.

    array_compact is a lambda function, which Spark evaluates row by row outside its generated code,
    with every item under it; it is kept for the few rows that have anything to list, and the
    common clean row takes the compiled `coalesce` test and an empty array."""
    items = list(items)
    return (
        f"CASE WHEN coalesce({', '.join(items)}) IS NULL THEN cast(array() AS array<string>) "
        f"ELSE array_compact(array({', '.join(items)})) END"
    )


def _extra_columns(contract: SourceContract) -> dict[str, str]:
    """Columns silver adds beyond the contract's: name -> SQL."""
    if contract is ATTRIBUTES:
        return {"ssn_valid": f"coalesce({_trimmed('SSN')} RLIKE {_sql_text(SSN_PATTERN)}, false)"}
    return {}


def add_days_past_due(df: DataFrame) -> DataFrame:
    """mob and dpd for LMS snapshots (the CS611 definition)."""
    missed = F.when(F.col("due_amt") > 0, F.ceil(F.col("overdue_amt") / F.col("due_amt"))).otherwise(F.lit(0))
    first_missed = F.add_months(F.col("snapshot_date"), -missed.cast("int"))
    dpd = F.when(F.col("overdue_amt") > 0, F.datediff(F.col("snapshot_date"), first_missed)).otherwise(F.lit(0))
    return df.withColumn("mob", F.col("installment_num")).withColumn("installments_missed", missed.cast("int")).withColumn("dpd", dpd.cast("int"))


def _with_first_row_of_key(bronze: DataFrame, statuses: DataFrame, rules: list[_ColumnRule], contract: SourceContract) -> DataFrame:
    """`statuses` plus `_first_row`: the first source row of the row's key when the key repeats, else null."""
    value_of = {r.column: r.value for r in rules}
    keys = [f"_dk_{i}" for i in range(len(contract.key))]
    repeated = (
        bronze.selectExpr(*[f"{value_of[k]} AS {d}" for k, d in zip(contract.key, keys)], "_source_row")
        .groupBy(*keys).agg(F.count(F.lit(1)).alias("_rows"), F.min("_source_row").alias("_first_row"))
        .filter("_rows > 1").drop("_rows")
    )
    # Null-safe: rows with an empty key are quarantined for that, and repeats among them are reported too.
    on = [statuses[f"_v_{k}"].eqNullSafe(repeated[d]) for k, d in zip(contract.key, keys)]
    return statuses.join(F.broadcast(repeated), on=on, how="left").drop(*keys)


def classify(bronze: DataFrame, contract: SourceContract, date_format: str) -> DataFrame:
    """Type and clean every bronze row; returns all rows with `dq_flags` and `dq_errors` arrays."""
    rules = column_rules(contract, date_format)
    extra = _extra_columns(contract)
    lineage = ["_source_file", "_source_row", "month"]
    # Step 1: each column's typed value and status, computed once per row.
    statuses = bronze.selectExpr(
        *[_ident(c) for c in contract.columns], *lineage,
        *[f"{r.value} AS {_ident('_v_' + r.column)}" for r in rules],
        *[f"{r.status} AS {_ident('_s_' + r.column)}" for r in rules],
    )
    # Step 2: the flags and errors they raise. Repeated keys keep the first row by source position;
    # later ones are quarantined naming it. The repeats are found on the narrow key columns and
    # joined back by broadcast (usually empty), so the wide rows are never shuffled.
    statuses = _with_first_row_of_key(bronze, statuses, rules, contract)
    key_text = "concat_ws('|', " + ", ".join(f"cast({_ident('_v_' + k)} AS string)" for k in contract.key) + ")"
    prefix = _sql_text(f"duplicate key ({', '.join(contract.key)})=")
    duplicate = (
        f"CASE WHEN _source_row > _first_row THEN "
        f"concat({prefix}, {key_text}, ' first seen at row ', cast(_first_row AS string)) END"
    )
    errors = [_error(r) for r in rules if r.reason] + [duplicate]
    # Whether a row is quarantined is decided from the statuses alone (a short OR), so the silver pass
    # filters on it without building any error text; the error list is built for quarantined rows only.
    quarantined = " OR ".join([*(f"({_ident('_s_' + r.column)} <=> '{INVALID}')" for r in rules if r.reason), "coalesce(_source_row > _first_row, false)"])
    classified = statuses.selectExpr(
        *[f"{_ident('_v_' + r.column)} AS {_ident(r.column)}" for r in rules],
        *[f"{sql} AS {name}" for name, sql in extra.items()],
        f"{_present(f for r in rules for f in _flags(r))} AS dq_flags",
        f"CASE WHEN {quarantined} THEN array_compact(array({', '.join(errors)})) ELSE cast(array() AS array<string>) END AS dq_errors",
        f"{quarantined} AS {QUARANTINED}",
        *[f"{_ident(c)} AS {_ident('_raw_' + c)}" for c in contract.columns],
        *lineage,
    )
    # Step 3: the raw record is kept only for quarantined rows, for the error report.
    record = "to_json(named_struct(" + ", ".join(f"{_sql_text(c)}, {_ident('_raw_' + c)}" for c in contract.columns) + "))"
    df = classified.selectExpr(
        *[_ident(r.column) for r in rules], *[_ident(name) for name in extra], "dq_flags", "dq_errors",
        f"CASE WHEN {QUARANTINED} THEN {record} END AS raw_record", QUARANTINED, *lineage,
    )
    if contract is LMS:
        df = add_days_past_due(df)
    return df


def silver_rows(classified: DataFrame) -> DataFrame:
    return classified.filter(~F.col(QUARANTINED)).drop("dq_errors", "raw_record", QUARANTINED)


class QuarantineCount:
    """How many rows of a classified frame break a rule, observed while its silver rows are written
    (no second pass over the data, and no cache of it, when the answer is none)."""

    def __init__(self) -> None:
        self.observation = Observation("quarantined_rows")

    def observe(self, classified: DataFrame) -> DataFrame:
        return classified.observe(self.observation, F.count(F.when(F.col(QUARANTINED), 1)).alias("rows"))

    @property
    def rows(self) -> int:
        return int(self.observation.get["rows"])


def quarantine_rows(classified: DataFrame, contract: SourceContract) -> DataFrame:
    return classified.filter(F.col(QUARANTINED)).select(
        F.lit(contract.name).alias("source"),
        "_source_file",
        "_source_row",
        F.col("dq_errors").alias("reasons"),
        "raw_record",
        "month",
    )


# The statistics below read the written silver months as Arrow tables: the flag lists are counted by
# Arrow's compute kernels, not turned into one Python object per row (for the whole CS611 clickstream,
# pandas took ~0.8 s of the step's Python time for it).


def flag_counts(months: dict[str, pa.Table]) -> dict[str, dict[str, int]]:
    """{month: {flag: rows}} for months (tables holding `dq_flags`) that have any flag."""
    counts: dict[str, dict[str, int]] = {}
    for month, table in months.items():
        for entry in pc.value_counts(pc.drop_null(pc.list_flatten(table["dq_flags"]))).to_pylist():
            counts.setdefault(month, {})[entry["values"]] = int(entry["counts"])
    return {m: dict(sorted(flags.items())) for m, flags in counts.items()}


def flagged_row_counts(months: dict[str, pa.Table]) -> dict[str, int]:
    """{month: rows with any flag} for months that have any."""
    counts = {m: int(pc.sum(pc.greater(pc.list_value_length(t["dq_flags"]), 0)).as_py() or 0) for m, t in months.items()}
    return {m: n for m, n in counts.items() if n}


def duplicate_key_rows(months: dict[str, pa.Table], contract: SourceContract) -> int:
    """Rows sharing a key with another row, across the months (0 after the de-duplication above; the
    check proves it). Null keys compare equal, as pandas' duplicated did."""
    keys = list(contract.key)
    tables = [t.select(keys) for t in months.values()]
    if not tables:
        return 0
    groups = pa.concat_tables(tables).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    sizes = groups["count_all"]
    return int(pc.sum(pc.if_else(pc.greater(sizes, 1), sizes, 0)).as_py() or 0)


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
