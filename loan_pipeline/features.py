"""The gold feature catalogue: which columns of `gold_features` the models may use.

Every column here is known at the loan's application date (docs/design.md, "Time contract").
"""

from __future__ import annotations

from loan_pipeline.sources.schemas import CLICKSTREAM_FEATURES, LOAN_TYPES


def loan_type_column(loan_type: str) -> str:
    return "loan_type_" + loan_type.lower().replace("-", "_").replace(" ", "_")


KEY_COLUMNS = ("loan_id", "Customer_ID", "application_date")

PROFILE_NUMERIC = (
    "Age", "Credit_History_Months", "Annual_Income", "Monthly_Inhand_Salary", "Num_Bank_Accounts",
    "Num_Credit_Card", "Interest_Rate", "Num_of_Loan", "Delay_from_due_date", "Num_of_Delayed_Payment",
    "Changed_Credit_Limit", "Num_Credit_Inquiries", "Outstanding_Debt", "Credit_Utilization_Ratio",
    "Total_EMI_per_month", "Amount_invested_monthly", "Monthly_Balance",
)
LOAN_NUMERIC = ("loan_amt", "tenure")
RATIO_NUMERIC = ("Savings_Ratio", "DTI", "EMI_to_Salary", "Debt_to_Income")
CLICKSTREAM_NUMERIC = (
    *(f"{c}_mean" for c in CLICKSTREAM_FEATURES),
    *(f"{c}_std" for c in CLICKSTREAM_FEATURES),
    "clickstream_months",
)
LOAN_TYPE_NUMERIC = (*(loan_type_column(t) for t in LOAN_TYPES), "n_loan_types")
FLAG_NUMERIC = ("ssn_valid",)

NUMERIC_FEATURES = (*LOAN_NUMERIC, *PROFILE_NUMERIC, *RATIO_NUMERIC, *CLICKSTREAM_NUMERIC, *LOAN_TYPE_NUMERIC, *FLAG_NUMERIC)
CATEGORICAL_FEATURES = ("Occupation", "Credit_Mix", "Payment_of_Min_Amount", "Payment_Behaviour")
MODEL_FEATURES = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)

# The 15 features of the original Airflow pipeline: the baseline every champion must beat.
SEED_FEATURES = (
    "Credit_History_Months", "Age", "Monthly_Inhand_Salary", "loan_amt", "tenure", "Interest_Rate",
    "fe_10_mean", "fe_10_std", "Savings_Ratio", "DTI", "Num_Bank_Accounts", "Num_Credit_Card",
    "Amount_invested_monthly", "Credit_Mix", "Occupation",
)

LABEL_COLUMNS = ("loan_id", "Customer_ID", "application_month", "label_month", "mob", "dpd", "label", "label_definition")
