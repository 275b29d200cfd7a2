"""Gold: one feature row per loan at its application date, and labels when they become observable.

Time contract (docs/design.md, "Time contract"): a loan's features come only from records dated on or before
its application date (`loan_start_date`):
- attributes and financials: the latest snapshot within `profile_lookback_months` before it;
- clickstream: the snapshots of the application month and the `clickstream_window_months - 1`
  months before it, summarised as mean and standard deviation per fe_* column.
The dates of the records used are kept (`*_snapshot_date`, `clickstream_last_date`) so a check can
prove nothing later leaked in.

Model-input rules applied here: a value silver flagged as out of range is not usable as a model
input and becomes null (the model's imputer fills it, fit on training data only); unknown
categories (placeholders) stay null and are encoded as their own level by the model pipeline.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from loan_pipeline.features import (
    CATEGORICAL_FEATURES, MODEL_FEATURES, PROFILE_NUMERIC, loan_type_column,
)
from loan_pipeline.settings import LabelDefinition
from loan_pipeline.sources.schemas import CLICKSTREAM_FEATURES, LOAN_TYPES
from loan_pipeline.transforms.spark_lake import month_of

LINEAGE_DATES = ("profile_snapshot_date", "financials_snapshot_date", "clickstream_last_date")
# Arrow types of what gold writes; the schema-contract checks compare the written files against these.
GOLD_FEATURES_SCHEMA = {
    "loan_id": "string", "Customer_ID": "string", "application_date": "date32[day]",
    **{c: "double" for c in MODEL_FEATURES if c not in CATEGORICAL_FEATURES},
    **{c: "string" for c in CATEGORICAL_FEATURES},
    **{c: "date32[day]" for c in LINEAGE_DATES},
}
GOLD_LABELS_SCHEMA = {
    "loan_id": "string", "Customer_ID": "string", "application_month": "string", "label_month": "string",
    "mob": "int32", "dpd": "int32", "label": "int32", "label_definition": "string",
}


def applications(lms: DataFrame, months: list[str]) -> DataFrame:
    """Loans applied in `months`: their installment-0 (mob 0) snapshot."""
    return lms.filter((F.col("mob") == 0) & month_of(F.col("loan_start_date")).isin(months)).select(
        "loan_id", "Customer_ID", F.col("loan_start_date").alias("application_date"),
        F.col("loan_amt"), F.col("tenure").cast("double").alias("tenure"),
    )


def _usable(column: str) -> F.Column:
    """Null when silver flagged the value out of range."""
    return F.when(F.array_contains(F.col("dq_flags"), f"{column}:out_of_range"), F.lit(None)).otherwise(F.col(column))


def _latest_as_of(loans: DataFrame, profile: DataFrame, lookback_months: int, date_alias: str) -> DataFrame:
    """For each loan, the latest profile row dated on or before its application date."""
    joined = loans.select("loan_id", "Customer_ID", "application_date").join(
        profile.withColumnRenamed("snapshot_date", date_alias), on="Customer_ID", how="inner"
    ).filter(
        (F.col(date_alias) <= F.col("application_date"))
        & (F.col(date_alias) > F.add_months(F.col("application_date"), -lookback_months))
    )
    latest = Window.partitionBy("loan_id").orderBy(F.col(date_alias).desc())
    return joined.withColumn("_rank", F.row_number().over(latest)).filter("_rank = 1").drop("_rank", "Customer_ID", "application_date")


def attribute_features(attributes: DataFrame) -> DataFrame:
    return attributes.select(
        "Customer_ID", "snapshot_date", _usable("Age").cast("double").alias("Age"), "Occupation",
        F.col("ssn_valid").cast("double").alias("ssn_valid"),
    )


def financial_features(financials: DataFrame) -> DataFrame:
    profile_numeric = [c for c in PROFILE_NUMERIC if c != "Age"]
    types = F.coalesce(F.col("Type_of_Loan"), F.lit(""))
    items = F.filter(
        F.transform(F.split(F.regexp_replace(types, r",?\s+and\s+", ","), ","), lambda s: F.trim(s)), lambda s: s != ""
    )
    return financials.select(
        "Customer_ID", "snapshot_date",
        *[_usable(c).cast("double").alias(c) for c in profile_numeric],
        *[c for c in CATEGORICAL_FEATURES if c != "Occupation"],
        *[F.array_contains(items, t).cast("double").alias(loan_type_column(t)) for t in LOAN_TYPES],
        F.size(items).cast("double").alias("n_loan_types"),
    )


def clickstream_features(loans: DataFrame, clickstream: DataFrame, window_months: int) -> DataFrame:
    joined = loans.select("loan_id", "Customer_ID", "application_date").join(clickstream, on="Customer_ID", how="inner").filter(
        (F.col("snapshot_date") <= F.col("application_date"))
        & (F.col("snapshot_date") > F.add_months(F.col("application_date"), -window_months))
    )
    aggregates = [F.mean(c).alias(f"{c}_mean") for c in CLICKSTREAM_FEATURES]
    aggregates += [F.stddev_samp(c).alias(f"{c}_std") for c in CLICKSTREAM_FEATURES]
    aggregates += [F.count("*").cast("double").alias("clickstream_months"), F.max("snapshot_date").alias("clickstream_last_date")]
    return joined.groupBy("loan_id").agg(*aggregates)


def _ratio(numerator: F.Column, denominator: F.Column) -> F.Column:
    return F.when(denominator > 0, numerator / denominator)


def build_features(
    lms: DataFrame, attributes: DataFrame, financials: DataFrame, clickstream: DataFrame, months: list[str],
    clickstream_window_months: int, profile_lookback_months: int,
) -> DataFrame:
    loans = applications(lms, months)
    attrs = _latest_as_of(loans, attribute_features(attributes), profile_lookback_months, "profile_snapshot_date")
    fins = _latest_as_of(loans, financial_features(financials), profile_lookback_months, "financials_snapshot_date")
    clicks = clickstream_features(loans, clickstream, clickstream_window_months)
    df = loans.join(attrs, "loan_id", "left").join(fins, "loan_id", "left").join(clicks, "loan_id", "left")
    installment = F.col("loan_amt") / F.col("tenure")
    df = df.select(
        "*",
        _ratio(F.col("Amount_invested_monthly"), F.col("Monthly_Inhand_Salary")).alias("Savings_Ratio"),
        _ratio(F.col("Total_EMI_per_month") + installment, F.col("Monthly_Inhand_Salary")).alias("DTI"),
        _ratio(F.col("Total_EMI_per_month"), F.col("Monthly_Inhand_Salary")).alias("EMI_to_Salary"),
        _ratio(F.col("Outstanding_Debt"), F.col("Annual_Income")).alias("Debt_to_Income"),
        month_of(F.col("application_date")).alias("month"),
    )
    # Customers with no clickstream get 0 months observed rather than an unknown count.
    df = df.fillna({"clickstream_months": 0.0})
    numeric = [c for c in MODEL_FEATURES if c not in CATEGORICAL_FEATURES]
    return df.select(
        "loan_id", "Customer_ID", "application_date",
        *[F.col(c).cast("double").alias(c) for c in numeric],
        *CATEGORICAL_FEATURES, *LINEAGE_DATES, "month",
    )


def build_labels(lms: DataFrame, months: list[str], label: LabelDefinition) -> DataFrame:
    """Labels observable in `months`: the loans reaching months-on-book `label.mob` then."""
    return lms.filter((F.col("mob") == label.mob) & F.col("month").isin(months)).select(
        "loan_id", "Customer_ID",
        month_of(F.col("loan_start_date")).alias("application_month"),
        F.col("month").alias("label_month"),
        F.col("mob").cast("int").alias("mob"),
        F.col("dpd").cast("int").alias("dpd"),
        (F.col("dpd") >= label.dpd_threshold).cast("int").alias("label"),
        F.lit(label.name).alias("label_definition"),
        F.col("month"),
    )
