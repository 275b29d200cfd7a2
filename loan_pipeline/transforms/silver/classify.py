"""The silver pass: every bronze row typed and cleaned by the column rules in one Spark plan, with the
flags and errors it raised; repeated keys keep their first row; silver rows and quarantine rows are
the two sides of that one classification.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from loan_pipeline.sources.schemas import ATTRIBUTES, LMS, SourceContract
from loan_pipeline.transforms.silver.rules import (
    INVALID, RANGES, SSN_PATTERN, ColumnRule, column_rules, ident, sql_text, trimmed,
)

# classify's boolean column: the row breaks a rule that quarantines it (dq_errors is not empty).
QUARANTINED = "_quarantined"


def _flags(rule: ColumnRule) -> list[str]:
    value, status = ident(f"_v_{rule.column}"), ident(f"_s_{rule.column}")
    flags = [f"CASE WHEN {status} <> '{INVALID}' THEN concat('{rule.column}:', {status}) END"]
    if rule.column in RANGES:
        low, high = RANGES[rule.column]
        flags.append(f"CASE WHEN {value} < {low} OR {value} > {high} THEN '{rule.column}:out_of_range' END")
    return flags


def _error(rule: ColumnRule) -> str:
    message = f"concat('{rule.source}=', coalesce({trimmed(rule.source)}, '<empty>'), {sql_text(': ' + rule.reason)})"
    return f"CASE WHEN {ident('_s_' + rule.column)} = '{INVALID}' THEN {message} END"


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
        return {"ssn_valid": f"coalesce({trimmed('SSN')} RLIKE {sql_text(SSN_PATTERN)}, false)"}
    return {}


def add_days_past_due(df: DataFrame) -> DataFrame:
    """mob and dpd for LMS snapshots (the CS611 definition)."""
    missed = F.when(F.col("due_amt") > 0, F.ceil(F.col("overdue_amt") / F.col("due_amt"))).otherwise(F.lit(0))
    first_missed = F.add_months(F.col("snapshot_date"), -missed.cast("int"))
    dpd = F.when(F.col("overdue_amt") > 0, F.datediff(F.col("snapshot_date"), first_missed)).otherwise(F.lit(0))
    return df.withColumn("mob", F.col("installment_num")).withColumn("installments_missed", missed.cast("int")).withColumn("dpd", dpd.cast("int"))


def _with_first_row_of_key(bronze: DataFrame, statuses: DataFrame, rules: list[ColumnRule], contract: SourceContract) -> DataFrame:
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
        *[ident(c) for c in contract.columns], *lineage,
        *[f"{r.value} AS {ident('_v_' + r.column)}" for r in rules],
        *[f"{r.status} AS {ident('_s_' + r.column)}" for r in rules],
    )
    # Step 2: the flags and errors they raise. Repeated keys keep the first row by source position;
    # later ones are quarantined naming it. The repeats are found on the narrow key columns and
    # joined back by broadcast (usually empty), so the wide rows are never shuffled.
    statuses = _with_first_row_of_key(bronze, statuses, rules, contract)
    key_text = "concat_ws('|', " + ", ".join(f"cast({ident('_v_' + k)} AS string)" for k in contract.key) + ")"
    prefix = sql_text(f"duplicate key ({', '.join(contract.key)})=")
    duplicate = (
        f"CASE WHEN _source_row > _first_row THEN "
        f"concat({prefix}, {key_text}, ' first seen at row ', cast(_first_row AS string)) END"
    )
    errors = [_error(r) for r in rules if r.reason] + [duplicate]
    # Whether a row is quarantined is decided from the statuses alone (a short OR), so the silver pass
    # filters on it without building any error text; the error list is built for quarantined rows only.
    quarantined = " OR ".join([*(f"({ident('_s_' + r.column)} <=> '{INVALID}')" for r in rules if r.reason), "coalesce(_source_row > _first_row, false)"])
    classified = statuses.selectExpr(
        *[f"{ident('_v_' + r.column)} AS {ident(r.column)}" for r in rules],
        *[f"{sql} AS {name}" for name, sql in extra.items()],
        f"{_present(f for r in rules for f in _flags(r))} AS dq_flags",
        f"CASE WHEN {quarantined} THEN array_compact(array({', '.join(errors)})) ELSE cast(array() AS array<string>) END AS dq_errors",
        f"{quarantined} AS {QUARANTINED}",
        *[f"{ident(c)} AS {ident('_raw_' + c)}" for c in contract.columns],
        *lineage,
    )
    # Step 3: the raw record is kept only for quarantined rows, for the error report.
    record = "to_json(named_struct(" + ", ".join(f"{sql_text(c)}, {ident('_raw_' + c)}" for c in contract.columns) + "))"
    df = classified.selectExpr(
        *[ident(r.column) for r in rules], *[ident(name) for name in extra], "dq_flags", "dq_errors",
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
