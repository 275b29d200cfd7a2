"""The cleaning rule of every silver column, as Spark SQL text over the raw bronze row: its typed value
and its status (clean, a flag code, or INVALID), plus the ranges and vocabularies the values are
checked against. The rules themselves are listed in the package docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

from loan_pipeline.sources.schemas import CREDIT_MIX, OCCUPATIONS, PAYMENT_BEHAVIOURS, PAYMENT_OF_MIN_AMOUNT, SourceContract

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


def sql_text(value: str) -> str:
    """A Spark SQL string literal (Spark SQL treats a backslash as an escape character)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ident(name: str) -> str:
    return f"`{name}`"


@dataclass(frozen=True)
class ColumnRule:
    """How one silver column is derived from its raw text, as Spark SQL over the bronze row.

    The rules are SQL text so a whole table's cleaning is sent to Spark in a few calls; built
    column by column through the DataFrame API it took thousands of Python-to-JVM round trips."""

    column: str  # the silver column
    source: str  # the raw column it is read from (named in error messages)
    value: str  # SQL: the typed value
    status: str  # SQL: NULL, a flag code, or INVALID
    reason: str = ""  # why INVALID quarantines the row


def trimmed(column: str) -> str:
    return f"trim({ident(column)})"


def _empty(raw: str) -> str:
    return f"({raw} IS NULL OR {raw} = '')"


def _numeric_rule(column: str, spark_type: str) -> ColumnRule:
    raw = trimmed(column)
    # Most values are plain numbers: the regex rules only decide what a failed direct cast means.
    direct = f"try_cast({raw} AS {spark_type})"
    without_underscores = f"try_cast(regexp_replace({raw}, '_+$', '') AS {spark_type})"
    trailing = f"{raw} RLIKE {sql_text(TRAILING_UNDERSCORE_PATTERN)}"
    return ColumnRule(
        column, column,
        value=f"coalesce({direct}, CASE WHEN {trailing} THEN {without_underscores} END)",
        status=(
            f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN {direct} IS NOT NULL THEN NULL "
            f"WHEN {raw} RLIKE {sql_text(PLACEHOLDER_PATTERN)} THEN 'placeholder' "
            f"WHEN {trailing} AND {without_underscores} IS NOT NULL THEN 'trailing_underscore' ELSE '{INVALID}' END"
        ),
        reason=f"not a number ({spark_type})",
    )


def _category_rule(column: str) -> ColumnRule:
    raw = trimmed(column)
    placeholder = f"{raw} RLIKE {sql_text(PLACEHOLDER_PATTERN)}"
    vocabulary = ", ".join(sql_text(v) for v in VOCABULARIES[column])
    return ColumnRule(
        column, column,
        value=f"CASE WHEN {_empty(raw)} OR {placeholder} THEN NULL ELSE {raw} END",
        status=(
            f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN {placeholder} THEN 'placeholder' "
            f"WHEN {raw} NOT IN ({vocabulary}) THEN 'unknown_category' END"
        ),
    )


def _text_rule(column: str, key: bool) -> ColumnRule:
    """Free text (ids, Type_of_Loan): placeholders are nulled, nothing else is checked; an empty key quarantines."""
    raw = trimmed(column)
    placeholder = f"{raw} RLIKE {sql_text(PLACEHOLDER_PATTERN)}"
    value = f"CASE WHEN {_empty(raw)} OR {placeholder} THEN NULL ELSE {raw} END"
    if key:
        return ColumnRule(column, column, value, f"CASE WHEN {_empty(raw)} OR {placeholder} THEN '{INVALID}' END", "key is empty")
    return ColumnRule(column, column, value, f"CASE WHEN {placeholder} THEN 'placeholder' END")


def _date_rule(column: str, date_format: str) -> ColumnRule:
    value = f"to_date(try_to_timestamp({trimmed(column)}, {sql_text(date_format)}))"
    return ColumnRule(column, column, value, f"CASE WHEN {value} IS NULL THEN '{INVALID}' END", f"not a date in format {date_format}")


def _credit_history_rule() -> ColumnRule:
    raw = trimmed("Credit_History_Age")
    pattern = sql_text(CREDIT_HISTORY_PATTERN)
    return ColumnRule(
        "Credit_History_Months", "Credit_History_Age",
        value=(
            f"CASE WHEN {raw} RLIKE {pattern} THEN "
            f"cast(regexp_extract({raw}, {pattern}, 1) AS int) * 12 + cast(regexp_extract({raw}, {pattern}, 2) AS int) END"
        ),
        status=f"CASE WHEN {_empty(raw)} THEN 'missing' WHEN NOT {raw} RLIKE {pattern} THEN '{INVALID}' END",
        reason="not 'N Years and M Months'",
    )


def column_rules(contract: SourceContract, date_format: str) -> list[ColumnRule]:
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
