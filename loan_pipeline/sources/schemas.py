"""Schema contracts of the four raw loan-book extracts (the CS611 layout).

A contract names the file, its columns in order, the column that dates each row (the partition
column), the key of a row, and the type each column gets in silver. Bronze checks the header
against `columns`; silver casts to `silver_types`. Nothing else in the project restates these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceContract:
    name: str  # short name used in asset names: bronze_<name>, silver_<name>
    file_name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    silver_types: dict[str, str]  # column -> Spark SQL type in silver ("string", "int", "double", "date")
    date_column: str = "snapshot_date"
    # Columns that must never leave bronze (personal data).
    personal: tuple[str, ...] = ()


LMS = SourceContract(
    name="lms",
    file_name="lms_loan_daily.csv",
    columns=(
        "loan_id", "Customer_ID", "loan_start_date", "tenure", "installment_num", "loan_amt",
        "due_amt", "paid_amt", "overdue_amt", "balance", "snapshot_date",
    ),
    key=("loan_id", "snapshot_date"),
    silver_types={
        "loan_id": "string", "Customer_ID": "string", "loan_start_date": "date", "tenure": "int",
        "installment_num": "int", "loan_amt": "double", "due_amt": "double", "paid_amt": "double",
        "overdue_amt": "double", "balance": "double", "snapshot_date": "date",
    },
)

CLICKSTREAM_FEATURES = tuple(f"fe_{i}" for i in range(1, 21))

CLICKSTREAM = SourceContract(
    name="clickstream",
    file_name="feature_clickstream.csv",
    columns=(*CLICKSTREAM_FEATURES, "Customer_ID", "snapshot_date"),
    key=("Customer_ID", "snapshot_date"),
    silver_types={**{c: "int" for c in CLICKSTREAM_FEATURES}, "Customer_ID": "string", "snapshot_date": "date"},
)

ATTRIBUTES = SourceContract(
    name="attributes",
    file_name="features_attributes.csv",
    columns=("Customer_ID", "Name", "Age", "SSN", "Occupation", "snapshot_date"),
    key=("Customer_ID", "snapshot_date"),
    silver_types={"Customer_ID": "string", "Age": "int", "Occupation": "string", "snapshot_date": "date"},
    personal=("Name", "SSN"),
)

FINANCIALS = SourceContract(
    name="financials",
    file_name="features_financials.csv",
    columns=(
        "Customer_ID", "Annual_Income", "Monthly_Inhand_Salary", "Num_Bank_Accounts", "Num_Credit_Card",
        "Interest_Rate", "Num_of_Loan", "Type_of_Loan", "Delay_from_due_date", "Num_of_Delayed_Payment",
        "Changed_Credit_Limit", "Num_Credit_Inquiries", "Credit_Mix", "Outstanding_Debt",
        "Credit_Utilization_Ratio", "Credit_History_Age", "Payment_of_Min_Amount", "Total_EMI_per_month",
        "Amount_invested_monthly", "Payment_Behaviour", "Monthly_Balance", "snapshot_date",
    ),
    key=("Customer_ID", "snapshot_date"),
    silver_types={
        "Customer_ID": "string", "Annual_Income": "double", "Monthly_Inhand_Salary": "double",
        "Num_Bank_Accounts": "int", "Num_Credit_Card": "int", "Interest_Rate": "int", "Num_of_Loan": "int",
        "Type_of_Loan": "string", "Delay_from_due_date": "int", "Num_of_Delayed_Payment": "int",
        "Changed_Credit_Limit": "double", "Num_Credit_Inquiries": "double", "Credit_Mix": "string",
        "Outstanding_Debt": "double", "Credit_Utilization_Ratio": "double", "Credit_History_Months": "int",
        "Payment_of_Min_Amount": "string", "Total_EMI_per_month": "double", "Amount_invested_monthly": "double",
        "Payment_Behaviour": "string", "Monthly_Balance": "double", "snapshot_date": "date",
    },
)

SOURCES: dict[str, SourceContract] = {c.name: c for c in (LMS, CLICKSTREAM, ATTRIBUTES, FINANCIALS)}

# The closed vocabularies seen in the CS611 extract; silver flags anything outside them.
OCCUPATIONS = (
    "Accountant", "Architect", "Developer", "Doctor", "Engineer", "Entrepreneur", "Journalist", "Lawyer",
    "Manager", "Mechanic", "Media_Manager", "Musician", "Scientist", "Teacher", "Writer",
)
LOAN_TYPES = (
    "Auto Loan", "Credit-Builder Loan", "Debt Consolidation Loan", "Home Equity Loan", "Mortgage Loan",
    "Not Specified", "Payday Loan", "Personal Loan", "Student Loan",
)
CREDIT_MIX = ("Bad", "Standard", "Good")
PAYMENT_OF_MIN_AMOUNT = ("Yes", "No", "NM")
PAYMENT_BEHAVIOURS = (
    "High_spent_Large_value_payments", "High_spent_Medium_value_payments", "High_spent_Small_value_payments",
    "Low_spent_Large_value_payments", "Low_spent_Medium_value_payments", "Low_spent_Small_value_payments",
)
