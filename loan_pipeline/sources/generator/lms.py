"""The loan records (`lms_loan_daily.csv`): one loan per customer, one snapshot per installment, with
defaulters following the real extract's repayment shape.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from loan_pipeline.sources.generator.csv_writer import Columns
from loan_pipeline.sources.schemas import LMS

TENURE = 10
LOAN_AMT = 10_000
DUE_AMT = LOAN_AMT // TENURE

# Chance a defaulter pays (everything owed) at installments 1..4; from installment 5 on it pays nothing.
# Fitted to the real extract's 16 defaulter repayment patterns.
DEFAULTER_PAY_PROB = (0.80, 0.61, 0.38, 0.19)


def paid_units(rng: np.random.Generator, defaulted: np.ndarray) -> np.ndarray:
    """Installments paid per snapshot (n x TENURE+1), in units of DUE_AMT.

    Payers pay 1 every month. Defaulters pay or skip at installments 1..4 (a payment clears all
    arrears, hence the real extract's 2000/3000/4000 catch-ups) and pay nothing from installment 5.
    """
    n = len(defaulted)
    paid = np.zeros((n, TENURE + 1), dtype=np.int64)
    paid[:, 1:] = 1
    arrears = np.zeros(n, dtype=np.int64)
    for k, prob in enumerate(DEFAULTER_PAY_PROB, start=1):
        owed = arrears + 1
        pays = rng.random(n) < prob
        paid[defaulted, k] = np.where(pays, owed, 0)[defaulted]
        arrears = np.where(pays, 0, owed)
    paid[defaulted, len(DEFAULTER_PAY_PROB) + 1:] = 0
    return paid


def lms_columns(ids: np.ndarray, start_idx: np.ndarray, months: np.ndarray, paid: np.ndarray) -> Columns:
    n, k = paid.shape
    due = np.ones(k, dtype=np.int64)
    due[0] = 0  # installment 0 is the disbursement snapshot: nothing due yet
    cum_paid = np.cumsum(paid, axis=1)
    overdue = np.cumsum(due)[None, :] - cum_paid
    balance = TENURE - cum_paid
    # Amounts are multiples of DUE_AMT: format them once and pick by index (Arrow take is fast).
    money = pa.array([f"{u * DUE_AMT}.0" for u in range(TENURE + 1)])
    starts = months[start_idx]
    loan_ids = pa.array(ids + "_" + np.array([d.replace("-", "_") for d in starts], dtype=object))
    per_loan = np.repeat(np.arange(n), k)
    columns = {
        "loan_id": loan_ids.take(per_loan),
        "Customer_ID": pa.array(ids).take(per_loan),
        "loan_start_date": pa.array(starts).take(per_loan),
        "tenure": np.full(n * k, TENURE),
        "installment_num": np.tile(np.arange(k), n),
        "loan_amt": np.full(n * k, LOAN_AMT),
        "due_amt": money.take(np.tile(due, n)),
        "paid_amt": money.take(paid.ravel()),
        "overdue_amt": money.take(overdue.ravel()),
        "balance": money.take(balance.ravel()),
        "snapshot_date": pa.array(months).take((start_idx[:, None] + np.arange(k)[None, :]).ravel()),
    }
    return {c: columns[c] for c in LMS.columns}
