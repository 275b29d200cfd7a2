"""The financials extract (`features_financials.csv`): income, accounts, loans, delays, debt and
payment behaviour per profile row, formatted like the real extract and with its dirty values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_pipeline.sources.generator.csv_writer import Columns
from loan_pipeline.sources.generator.dirty import (
    BALANCE_PLACEHOLDER, BEHAVIOUR_PLACEHOLDER, BLANK_PLACEHOLDER, DIRTY_RATES, INVESTED_PLACEHOLDER,
    add_suffix, exclusive_masks, fmt, put, row_mask,
)
from loan_pipeline.sources.schemas import FINANCIALS, LOAN_TYPES


def type_of_loan(rng: np.random.Generator, loans: np.ndarray) -> np.ndarray:
    """'A', 'A, and B', 'A, B, and C' ... drawn with replacement (the extract repeats types too)."""
    draws = rng.integers(0, len(LOAN_TYPES), (len(loans), loans.max(initial=1)))
    picks = np.asarray(LOAN_TYPES, dtype=object)[draws]
    out = np.empty(len(loans), dtype=object)
    for i, (row, count) in enumerate(zip(picks, loans)):
        if count == 0:
            out[i] = ""
        elif count == 1:
            out[i] = row[0]
        else:
            out[i] = ", ".join(row[: count - 1]) + ", and " + row[count - 1]
    return out


def financials_columns(rng: np.random.Generator, ids, profile: pd.DataFrame, loan_types, dates) -> Columns:
    n = len(ids)
    p = profile
    R = DIRTY_RATES

    def outliers(values: np.ndarray, rate: float, lo: int, hi: int, as_float: bool = False) -> None:
        wild = rng.integers(lo, hi + 1, n)
        put(values, row_mask(rng, n, rate), fmt(wild.astype(float) if as_float else wild))

    income = fmt(p["Annual_Income"].to_numpy())
    outliers(income, R["annual_income_outlier"], 180_000, 24_000_000, as_float=True)
    add_suffix(income, row_mask(rng, n, R["annual_income_trailing_underscore"]))

    accounts = fmt(p["Num_Bank_Accounts"].to_numpy())
    negative, wild = exclusive_masks(rng, n, [R["num_bank_accounts_negative"], R["num_bank_accounts_outlier"]])
    put(accounts, negative, "-1")
    put(accounts, wild, fmt(rng.integers(12, 1757, n)))
    cards = fmt(p["Num_Credit_Card"].to_numpy())
    outliers(cards, R["num_credit_card_outlier"], 12, 1499)
    rate = fmt(p["Interest_Rate"].to_numpy())
    outliers(rate, R["interest_rate_outlier"], 35, 5789)

    loans = fmt(p["Num_of_Loan"].to_numpy())
    negative, wild = exclusive_masks(rng, n, [R["num_of_loan_negative"], R["num_of_loan_outlier"]])
    put(loans, negative, "-100")
    put(loans, wild, fmt(rng.integers(10, 1496, n)))
    add_suffix(loans, row_mask(rng, n, R["num_of_loan_trailing_underscore"]))

    delayed = fmt(p["Num_of_Delayed_Payment"].to_numpy())
    rates = [R["num_of_delayed_payment_negative"], R["num_of_delayed_payment_outlier"]]
    negative, wild = exclusive_masks(rng, n, rates)
    put(delayed, negative, fmt(rng.integers(-3, 0, n)))
    put(delayed, wild, fmt(rng.integers(29, 4294, n)))
    add_suffix(delayed, row_mask(rng, n, R["num_of_delayed_payment_trailing_underscore"]))

    limit = fmt(p["Changed_Credit_Limit"].to_numpy())
    put(limit, row_mask(rng, n, R["changed_credit_limit_placeholder"]), BLANK_PLACEHOLDER)
    inquiries = fmt(p["Num_Credit_Inquiries"].to_numpy().astype(float))
    outliers(inquiries, R["num_credit_inquiries_outlier"], 18, 2554, as_float=True)
    mix = p["Credit_Mix"].to_numpy(dtype=object).copy()
    put(mix, row_mask(rng, n, R["credit_mix_placeholder"]), BLANK_PLACEHOLDER)
    debt = fmt(p["Outstanding_Debt"].to_numpy())
    add_suffix(debt, row_mask(rng, n, R["outstanding_debt_trailing_underscore"]))
    months = p["Credit_History_Months"].to_numpy()
    history = fmt(months // 12) + " Years and " + fmt(months % 12) + " Months"
    min_amount = p["Min_Amount_True"].to_numpy(dtype=object).copy()
    put(min_amount, row_mask(rng, n, R["payment_of_min_amount_nm"]), "NM")
    emi = fmt(p["Total_EMI_per_month"].to_numpy())
    outliers(emi, R["total_emi_outlier"], 2000, 81971, as_float=True)
    invested = fmt(p["Amount_invested_monthly"].to_numpy())
    put(invested, row_mask(rng, n, R["amount_invested_placeholder"]), INVESTED_PLACEHOLDER)
    behaviour = p["Payment_Behaviour"].to_numpy(dtype=object).copy()
    put(behaviour, row_mask(rng, n, R["payment_behaviour_placeholder"]), BEHAVIOUR_PLACEHOLDER)
    balance = fmt(p["Monthly_Balance"].to_numpy())
    # The extract has exactly one; keep the rate but never fewer than one.
    count = min(n, max(1, round(n * R["monthly_balance_placeholder"])))
    balance[rng.choice(n, size=count, replace=False)] = BALANCE_PLACEHOLDER

    columns = {
        "Customer_ID": ids, "Annual_Income": income,
        "Monthly_Inhand_Salary": fmt(p["Monthly_Inhand_Salary"].to_numpy()),
        "Num_Bank_Accounts": accounts, "Num_Credit_Card": cards, "Interest_Rate": rate, "Num_of_Loan": loans,
        "Type_of_Loan": loan_types, "Delay_from_due_date": fmt(p["Delay_from_due_date"].to_numpy()),
        "Num_of_Delayed_Payment": delayed, "Changed_Credit_Limit": limit, "Num_Credit_Inquiries": inquiries,
        "Credit_Mix": mix, "Outstanding_Debt": debt,
        "Credit_Utilization_Ratio": fmt(p["Credit_Utilization_Ratio"].to_numpy()),
        "Credit_History_Age": history, "Payment_of_Min_Amount": min_amount, "Total_EMI_per_month": emi,
        "Amount_invested_monthly": invested, "Payment_Behaviour": behaviour, "Monthly_Balance": balance,
        "snapshot_date": dates,
    }
    return {c: columns[c] for c in FINANCIALS.columns}
