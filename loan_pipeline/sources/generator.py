"""Deterministic sample data in the layout of the four CS611 loan-book extracts.

`generate_loan_book` writes lms_loan_daily.csv, feature_clickstream.csv, features_attributes.csv and
features_financials.csv with the column order of the schema contracts, distributions modelled on the
real extract, its dirty values at its rates, and default outcomes that depend on the application-time
features. data/README.md documents what is generated and why.

How a customer is made:
1. A latent credit quality `q` (higher = riskier). Its mean rises over the second half of the loan
   start months: the mild risk-mix drift that monitoring should see.
2. Profile features are noisy functions of `q` (so they correlate like real ones do).
3. A risk score is computed FROM those feature values (plus noise); the default probability is a
   logistic function of it, calibrated so that `DEFAULT_RATE` of loans default.
4. Defaulters follow the real extract's repayment shape: pay or skip (then catch up) on installments
   1..4, then stop paying for good. Everyone else pays every installment.
5. Dirty values are injected per row after formatting, at the rates in `DIRTY_RATES`.

Same arguments -> byte-identical files. Every file is written to a temp file and renamed into place.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from functools import partial
from pathlib import Path
from statistics import NormalDist
from typing import IO, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loan_pipeline.files import atomic_open
from loan_pipeline.sources.schemas import (
    ATTRIBUTES,
    CLICKSTREAM,
    CLICKSTREAM_FEATURES,
    CREDIT_MIX,
    FINANCIALS,
    LMS,
    LOAN_TYPES,
    OCCUPATIONS,
    PAYMENT_BEHAVIOURS,
    PAYMENT_OF_MIN_AMOUNT,
)

TENURE = 10
LOAN_AMT = 10_000
DUE_AMT = LOAN_AMT // TENURE

# Share of customers with clickstream (real: 8,974 of 12,500), every month of the clickstream calendar.
CLICKSTREAM_SHARE = 8974 / 12500
# Share of customers whose attributes/financials get a later refresh row (deliberate leakage bait).
REFRESH_SHARE = 0.05
REFRESH_MAX_MONTHS = 9  # refresh lands 1..9 months after the loan start, inside the loan's life

# Expected share of loans that stop paying; label (dpd >= 30 at mob 6) is ~ this share.
DEFAULT_RATE = 0.28
# Chance a defaulter pays (everything owed) at installments 1..4; from installment 5 on it pays nothing.
# Fitted to the real extract's 16 defaulter repayment patterns.
DEFAULTER_PAY_PROB = (0.80, 0.61, 0.38, 0.19)
# Slope of the logistic default model on the risk score: sets how separable defaults are.
RISK_SCALE = 1.3
# Mean shift of the latent quality by the last start month (0 until half way): the drift.
DRIFT_MAX = 0.3

# Dirty-value rates per row, as counted in the real extract (count / 12,500 rows).
DIRTY_RATES: dict[str, float] = {
    "age_trailing_underscore": 637 / 12500,
    "age_negative": 104 / 12500,  # -500
    "age_too_old": 215 / 12500,  # 57 .. 8678
    "ssn_placeholder": 703 / 12500,  # "#F%$D@*&8"
    "occupation_placeholder": 880 / 12500,  # "_______"
    "annual_income_trailing_underscore": 859 / 12500,
    "annual_income_outlier": 114 / 12500,  # 180k .. 24M
    "num_bank_accounts_negative": 4 / 12500,  # -1
    "num_bank_accounts_outlier": 167 / 12500,  # 12 .. 1756
    "num_credit_card_outlier": 296 / 12500,  # 12 .. 1499
    "interest_rate_outlier": 270 / 12500,  # 35 .. 5789
    "num_of_loan_negative": 500 / 12500,  # -100
    "num_of_loan_outlier": 67 / 12500,  # 10 .. 1495
    "num_of_loan_trailing_underscore": 623 / 12500,
    "num_of_delayed_payment_negative": 84 / 12500,  # -3 .. -1
    "num_of_delayed_payment_outlier": 105 / 12500,  # 29 .. 4293
    "num_of_delayed_payment_trailing_underscore": 374 / 12500,
    "changed_credit_limit_placeholder": 254 / 12500,  # "_"
    "num_credit_inquiries_outlier": 195 / 12500,  # 18 .. 2554
    "credit_mix_placeholder": 2611 / 12500,  # "_"
    "outstanding_debt_trailing_underscore": 139 / 12500,
    "payment_of_min_amount_nm": 1438 / 12500,  # "NM" (a category, not missing)
    "total_emi_outlier": 408 / 12500,  # 2000 .. 81971
    "amount_invested_placeholder": 558 / 12500,  # "__10000__"
    "payment_behaviour_placeholder": 998 / 12500,  # "!@9#%8"
    "monthly_balance_placeholder": 1 / 12500,  # "__-333333333333333333333333333__", at least one row
}

SSN_PLACEHOLDER = "#F%$D@*&8"
OCCUPATION_PLACEHOLDER = "_______"
BLANK_PLACEHOLDER = "_"
INVESTED_PLACEHOLDER = "__10000__"
BEHAVIOUR_PLACEHOLDER = "!@9#%8"
BALANCE_PLACEHOLDER = "__-333333333333333333333333333__"

CHUNK_ROWS = 500_000  # rows formatted per write

# Risk contribution of each category; the keys must be exactly the contract vocabularies.
MIX_RISK = {"Good": -1.0, "Standard": 0.0, "Bad": 1.2}
MIX_SHARE = {"Good": 0.307, "Standard": 0.455, "Bad": 0.238}  # real, placeholders excluded
MIN_AMOUNT_RISK = {"Yes": 0.5, "No": -0.5}  # NM hides the true answer
BEHAVIOUR_SHARE = {  # real counts, placeholders excluded; vocabulary order is safest .. riskiest
    "High_spent_Large_value_payments": 1683, "High_spent_Medium_value_payments": 2242,
    "High_spent_Small_value_payments": 1389, "Low_spent_Large_value_payments": 1300,
    "Low_spent_Medium_value_payments": 1686, "Low_spent_Small_value_payments": 3202,
}
assert set(MIX_RISK) == set(MIX_SHARE) == set(CREDIT_MIX)
assert set(MIN_AMOUNT_RISK) | {"NM"} == set(PAYMENT_OF_MIN_AMOUNT)
assert tuple(BEHAVIOUR_SHARE) == PAYMENT_BEHAVIOURS

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Wei", "Mei", "Hiroshi", "Yuki", "Arjun", "Priya", "Mohammed", "Fatima", "Carlos", "Lucia",
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Lucas", "Isabella", "Mateo",
)
SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Tan", "Lim", "Wong", "Chen", "Nguyen", "Kumar", "Sharma", "Singh", "Suzuki", "Sato",
    "Okafor", "Mensah", "Novak", "Kowalski", "Rossi", "Muller", "Dubois", "Silva", "Costa", "Ivanova",
)


# ----------------------------------------------------------------------------------------------
# small helpers


def month_labels(start_month: str, count: int) -> np.ndarray:
    """ISO first-of-month dates: start_month, start_month + 1 month, ..."""
    start = pd.Timestamp(start_month)
    if start.day != 1:
        raise ValueError(f"start_month must be the first of a month, got {start_month!r}")
    return pd.date_range(start, periods=count, freq="MS").strftime("%Y-%m-%d").to_numpy(dtype=object)


def _driver(rng: np.random.Generator, q: np.ndarray, rho: float) -> np.ndarray:
    """A standard-normal feature driver with correlation `rho` to the latent quality."""
    return rho * q + np.sqrt(1.0 - rho * rho) * rng.standard_normal(len(q))


def _scaled_int(u: np.ndarray, centre: float, scale: float, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(centre + scale * u), lo, hi).astype(np.int64)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(np.asarray(x) / math.sqrt(2.0)))


def _bins(u: np.ndarray, names: Sequence[str], shares: Sequence[float]) -> np.ndarray:
    """Cut a standard-normal driver into categories by cumulative share (first name = lowest u)."""
    cum = np.cumsum(shares) / np.sum(shares)
    edges = [NormalDist().inv_cdf(c) for c in cum[:-1]]
    return np.asarray(names, dtype=object)[np.searchsorted(edges, u)]


def _fmt(values: np.ndarray) -> np.ndarray:
    """Python's text of each number, like the extract: 1000.0, 2706.1616666666664, 6 (faster than numpy's)."""
    return np.array(list(map(str, np.asarray(values).tolist())), dtype=object)


def _exclusive_masks(rng: np.random.Generator, n: int, rates: Sequence[float]) -> list[np.ndarray]:
    """Disjoint row masks with the given rates (one draw, so a row gets at most one of them)."""
    u = rng.random(n)
    edges = np.concatenate([[0.0], np.cumsum(rates)])
    return [(u >= lo) & (u < hi) for lo, hi in zip(edges[:-1], edges[1:])]


def _mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def _put(text: np.ndarray, mask: np.ndarray, value) -> None:
    text[mask] = value[mask] if isinstance(value, np.ndarray) else value


def _suffix(text: np.ndarray, mask: np.ndarray, suffix: str = "_") -> None:
    text[mask] = text[mask] + suffix


# ----------------------------------------------------------------------------------------------
# customers, features, risk


def _customer_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    # Real ids are a sparse random subset of hex numbers (0x3ee .. 0xc737); keep it sparse at any size.
    span = max(50_000, 4 * n)
    numbers = 1000 + rng.choice(span, size=n, replace=False)
    ids = np.array([f"CUS_0x{v:x}" for v in numbers], dtype=object)
    return np.sort(ids)  # files are ordered by Customer_ID text, like the extract


def _drift(start_idx: np.ndarray, loan_start_months: int) -> np.ndarray:
    half = (loan_start_months - 1) / 2
    return DRIFT_MAX * np.clip((start_idx - half) / max(half, 1.0), 0.0, 1.0)


def _profiles(rng: np.random.Generator, q: np.ndarray) -> pd.DataFrame:
    """Clean application-time profile values, one row per customer."""
    n = len(q)
    occupation = np.asarray(OCCUPATIONS, dtype=object)[rng.integers(0, len(OCCUPATIONS), n)]
    age = np.clip(np.rint(33.5 - 10.0 * _driver(rng, q, 0.2)), 14, 56).astype(np.int64)
    income = np.clip(np.exp(10.53 + 0.85 * _driver(rng, q, -0.3)), 7000.0, 179_900.0)
    salary = income / 12.0 / np.exp(rng.normal(0.0, 0.08, n))
    loans = _scaled_int(_driver(rng, q, 0.45), 3.4, 2.4, 0, 9)
    emi = np.where(loans > 0, loans * np.exp(rng.normal(3.2, 0.9, n)), 0.0)
    u_debt = _driver(rng, q, 0.55)
    # Weibull(1.2, 1500) quantiles of the driver: the extract's right-skewed debt, capped like it.
    debt = np.round(np.clip(1500.0 * (-np.log1p(-_norm_cdf(u_debt))) ** (1 / 1.2), 0.23, 4998.0), 2)
    return pd.DataFrame(
        {
            "Age": age,
            "Occupation": occupation,
            "Annual_Income": np.round(income, 2),
            "Monthly_Inhand_Salary": salary,
            "Num_Bank_Accounts": _scaled_int(_driver(rng, q, 0.45), 5.4, 2.6, 0, 11),
            "Num_Credit_Card": _scaled_int(_driver(rng, q, 0.45), 5.5, 2.1, 0, 11),
            "Interest_Rate": _scaled_int(_driver(rng, q, 0.55), 14.5, 9.0, 1, 34),
            "Num_of_Loan": loans,
            "Delay_from_due_date": _scaled_int(np.exp(3.0 + 0.7 * _driver(rng, q, 0.55)), -3.0, 1.0, -5, 67),
            "Num_of_Delayed_Payment": _scaled_int(_driver(rng, q, 0.45), 13.5, 6.5, 0, 28),
            "Changed_Credit_Limit": np.round(10.4 + 6.5 * _driver(rng, q, 0.2), 2),
            "Num_Credit_Inquiries": _scaled_int(_driver(rng, q, 0.5), 6.5, 4.2, 0, 17),
            "Credit_Mix": _bins(_driver(rng, q, 0.6), list(MIX_SHARE), list(MIX_SHARE.values())),
            "Outstanding_Debt": debt,
            "Credit_Utilization_Ratio": np.clip(rng.normal(32.35, 5.1, n), 20.1, 48.2),
            "Credit_History_Months": _scaled_int(_driver(rng, q, -0.5), 225.0, 95.0, 8, 404),
            # Yes for the riskier 59%; NM (hiding the answer) is applied when formatting.
            "Min_Amount_True": np.where(_driver(rng, q, 0.45) > -0.24, "Yes", "No").astype(object),
            "Total_EMI_per_month": np.minimum(emi, 1790.0),
            "Amount_invested_monthly": salary * 0.045 * np.exp(rng.normal(0.0, 0.5, n)),
            "Payment_Behaviour": _bins(_driver(rng, q, 0.4), list(BEHAVIOUR_SHARE), list(BEHAVIOUR_SHARE.values())),
            "Monthly_Balance": np.exp(5.85 + 0.3 * (np.log(salary) - 8.0) + rng.normal(0.0, 0.45, n)),
        }
    )


def _risk_score(profile: pd.DataFrame, click_propensity: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The latent risk score: a weighted sum of standardised application-time feature values."""
    p = profile
    debt_to_income = (np.log((p["Outstanding_Debt"] + 100.0) / p["Monthly_Inhand_Salary"]) + 1.0) / 1.5
    return (
        0.50 * p["Credit_Mix"].map(MIX_RISK).to_numpy(float)
        + 0.30 * (p["Interest_Rate"].to_numpy() - 14.5) / 9.0
        + 0.30 * (p["Delay_from_due_date"].to_numpy() - 21.0) / 14.0
        + 0.20 * (p["Num_of_Delayed_Payment"].to_numpy() - 13.5) / 6.5
        + 0.35 * debt_to_income.to_numpy()
        + 0.25 * (225.0 - p["Credit_History_Months"].to_numpy()) / 95.0
        + 0.30 * p["Min_Amount_True"].map(MIN_AMOUNT_RISK).to_numpy(float)
        + 0.15 * (p["Payment_Behaviour"].map({b: i for i, b in enumerate(PAYMENT_BEHAVIOURS)}).to_numpy() - 2.5) / 1.7
        + 0.20 * (p["Num_Credit_Inquiries"].to_numpy() - 6.5) / 4.2
        + 0.40 * click_propensity
        + noise
    )


def _calibrated_probability(score: np.ndarray, rate: float) -> np.ndarray:
    """Default probabilities sigmoid(a + RISK_SCALE * score) with `a` chosen so they average `rate`."""
    lo, hi = -20.0, 20.0
    for _ in range(60):  # bisection: the mean is monotone in a
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + RISK_SCALE * score)))) < rate:
            lo = mid
        else:
            hi = mid
    return 1.0 / (1.0 + np.exp(-(lo + RISK_SCALE * score)))


def _paid_units(rng: np.random.Generator, defaulted: np.ndarray) -> np.ndarray:
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


# ----------------------------------------------------------------------------------------------
# the four files


Columns = dict[str, "np.ndarray | pa.Array"]


def _lms_columns(ids: np.ndarray, start_idx: np.ndarray, months: np.ndarray, paid: np.ndarray) -> Columns:
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


def _clickstream_months(
    rng: np.random.Generator, ids: np.ndarray, propensity: np.ndarray, months: np.ndarray
) -> Iterator[Columns]:
    """One block of rows per month: fe_1..fe_20 integers ~ N(mean, 100) whose mean rises with the
    risk propensity for fe_1..fe_5 and falls with it for fe_6..fe_10 (like the extract); fe_11..fe_20
    are noise. The same customers appear every month."""
    has = rng.random(len(ids)) < CLICKSTREAM_SHARE
    ids, propensity = pa.array(ids[has]), propensity[has]
    k = np.arange(1, len(CLICKSTREAM_FEATURES) + 1)
    base = 100.0 + np.where((k > 5) & (k <= 10), 3.0 * (k - 5), 0.0)
    slope = np.where(k <= 5, 5.0 * k, np.where(k <= 10, -5.0 * (k - 5), 0.0))
    means = (base[None, :] + propensity[:, None] * slope[None, :]).astype(np.float32)
    for month in months:
        values = np.rint(means + 100.0 * rng.standard_normal(means.shape, dtype=np.float32)).astype(np.int32)
        columns = {name: values[:, i] for i, name in enumerate(CLICKSTREAM_FEATURES)}
        columns["Customer_ID"] = ids
        columns["snapshot_date"] = pa.array(np.full(len(ids), month, dtype=object), pa.string())
        yield {c: columns[c] for c in CLICKSTREAM.columns}


def _refresh(
    rng: np.random.Generator, profile: pd.DataFrame, defaulted: np.ndarray, start_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Later profile rows for REFRESH_SHARE of customers, dated 1..REFRESH_MAX_MONTHS months after the
    loan start. They carry what happened since (defaulters look worse), so a feature pipeline that
    leaks them in would look suspiciously good."""
    n = len(profile)
    chosen = np.flatnonzero(rng.random(n) < REFRESH_SHARE)
    later = rng.integers(1, REFRESH_MAX_MONTHS + 1, n)[chosen]
    bad = defaulted[chosen]
    m = len(chosen)

    def worse_if_bad(bad_lo: int, bad_hi: int, good_lo: int, good_hi: int) -> np.ndarray:
        return np.where(bad, rng.integers(bad_lo, bad_hi, m), rng.integers(good_lo, good_hi, m))

    new = profile.iloc[chosen].reset_index(drop=True).copy()
    new["Age"] = np.minimum(new["Age"] + (rng.random(m) < later / 12.0), 56)
    new["Credit_History_Months"] = np.minimum(new["Credit_History_Months"] + later, 404)
    growth = np.exp(rng.normal(0.02, 0.03, m))
    new["Annual_Income"] = np.round(new["Annual_Income"] * growth, 2)
    new["Monthly_Inhand_Salary"] = new["Monthly_Inhand_Salary"] * growth
    new["Num_of_Delayed_Payment"] = np.minimum(new["Num_of_Delayed_Payment"] + worse_if_bad(2, 9, 0, 2), 28)
    new["Delay_from_due_date"] = np.minimum(new["Delay_from_due_date"] + worse_if_bad(5, 21, -3, 3), 67)
    new["Num_Credit_Inquiries"] = np.minimum(new["Num_Credit_Inquiries"] + worse_if_bad(1, 5, 0, 1), 17)
    debt_factor = np.where(bad, rng.uniform(1.1, 1.5, m), rng.uniform(0.7, 1.0, m))
    new["Outstanding_Debt"] = np.round(new["Outstanding_Debt"] * debt_factor, 2)
    new["Credit_Mix"] = np.where(bad & (rng.random(m) < 0.5), "Bad", new["Credit_Mix"]).astype(object)
    new["Min_Amount_True"] = np.where(bad, "Yes", new["Min_Amount_True"]).astype(object)
    new["Changed_Credit_Limit"] = np.round(new["Changed_Credit_Limit"] + rng.normal(0.0, 2.0, m), 2)
    return chosen, start_idx[chosen] + later, new


def _type_of_loan(rng: np.random.Generator, loans: np.ndarray) -> np.ndarray:
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


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.asarray(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    # The extract has full names for ~40% of customers and a single name for the rest.
    return np.where(rng.random(n) < 0.4, first + " " + last, np.where(rng.random(n) < 0.5, first, last))


def _ssns(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.integers(1, 900, n)
    area = np.where(area == 666, 667, area)  # 666 is never issued
    group, serial = rng.integers(1, 100, n), rng.integers(1, 10_000, n)
    return np.array([f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial)], dtype=object)


def _attributes_columns(rng: np.random.Generator, ids, names, ssns, profile: pd.DataFrame, dates) -> Columns:
    n = len(ids)
    age = _fmt(profile["Age"].to_numpy())
    negative, too_old = _exclusive_masks(rng, n, [DIRTY_RATES["age_negative"], DIRTY_RATES["age_too_old"]])
    _put(age, negative, "-500")
    _put(age, too_old, _fmt(rng.integers(57, 8679, n)))
    _suffix(age, _mask(rng, n, DIRTY_RATES["age_trailing_underscore"]))
    ssn = ssns.copy()
    _put(ssn, _mask(rng, n, DIRTY_RATES["ssn_placeholder"]), SSN_PLACEHOLDER)
    occupation = profile["Occupation"].to_numpy(dtype=object).copy()
    _put(occupation, _mask(rng, n, DIRTY_RATES["occupation_placeholder"]), OCCUPATION_PLACEHOLDER)
    columns = {
        "Customer_ID": ids, "Name": names, "Age": age, "SSN": ssn, "Occupation": occupation, "snapshot_date": dates,
    }
    return {c: columns[c] for c in ATTRIBUTES.columns}


def _financials_columns(rng: np.random.Generator, ids, profile: pd.DataFrame, loan_types, dates) -> Columns:
    n = len(ids)
    p = profile
    R = DIRTY_RATES

    def outliers(values: np.ndarray, rate: float, lo: int, hi: int, as_float: bool = False) -> None:
        wild = rng.integers(lo, hi + 1, n)
        _put(values, _mask(rng, n, rate), _fmt(wild.astype(float) if as_float else wild))

    income = _fmt(p["Annual_Income"].to_numpy())
    outliers(income, R["annual_income_outlier"], 180_000, 24_000_000, as_float=True)
    _suffix(income, _mask(rng, n, R["annual_income_trailing_underscore"]))

    accounts = _fmt(p["Num_Bank_Accounts"].to_numpy())
    negative, wild = _exclusive_masks(rng, n, [R["num_bank_accounts_negative"], R["num_bank_accounts_outlier"]])
    _put(accounts, negative, "-1")
    _put(accounts, wild, _fmt(rng.integers(12, 1757, n)))
    cards = _fmt(p["Num_Credit_Card"].to_numpy())
    outliers(cards, R["num_credit_card_outlier"], 12, 1499)
    rate = _fmt(p["Interest_Rate"].to_numpy())
    outliers(rate, R["interest_rate_outlier"], 35, 5789)

    loans = _fmt(p["Num_of_Loan"].to_numpy())
    negative, wild = _exclusive_masks(rng, n, [R["num_of_loan_negative"], R["num_of_loan_outlier"]])
    _put(loans, negative, "-100")
    _put(loans, wild, _fmt(rng.integers(10, 1496, n)))
    _suffix(loans, _mask(rng, n, R["num_of_loan_trailing_underscore"]))

    delayed = _fmt(p["Num_of_Delayed_Payment"].to_numpy())
    rates = [R["num_of_delayed_payment_negative"], R["num_of_delayed_payment_outlier"]]
    negative, wild = _exclusive_masks(rng, n, rates)
    _put(delayed, negative, _fmt(rng.integers(-3, 0, n)))
    _put(delayed, wild, _fmt(rng.integers(29, 4294, n)))
    _suffix(delayed, _mask(rng, n, R["num_of_delayed_payment_trailing_underscore"]))

    limit = _fmt(p["Changed_Credit_Limit"].to_numpy())
    _put(limit, _mask(rng, n, R["changed_credit_limit_placeholder"]), BLANK_PLACEHOLDER)
    inquiries = _fmt(p["Num_Credit_Inquiries"].to_numpy().astype(float))
    outliers(inquiries, R["num_credit_inquiries_outlier"], 18, 2554, as_float=True)
    mix = p["Credit_Mix"].to_numpy(dtype=object).copy()
    _put(mix, _mask(rng, n, R["credit_mix_placeholder"]), BLANK_PLACEHOLDER)
    debt = _fmt(p["Outstanding_Debt"].to_numpy())
    _suffix(debt, _mask(rng, n, R["outstanding_debt_trailing_underscore"]))
    months = p["Credit_History_Months"].to_numpy()
    history = _fmt(months // 12) + " Years and " + _fmt(months % 12) + " Months"
    min_amount = p["Min_Amount_True"].to_numpy(dtype=object).copy()
    _put(min_amount, _mask(rng, n, R["payment_of_min_amount_nm"]), "NM")
    emi = _fmt(p["Total_EMI_per_month"].to_numpy())
    outliers(emi, R["total_emi_outlier"], 2000, 81971, as_float=True)
    invested = _fmt(p["Amount_invested_monthly"].to_numpy())
    _put(invested, _mask(rng, n, R["amount_invested_placeholder"]), INVESTED_PLACEHOLDER)
    behaviour = p["Payment_Behaviour"].to_numpy(dtype=object).copy()
    _put(behaviour, _mask(rng, n, R["payment_behaviour_placeholder"]), BEHAVIOUR_PLACEHOLDER)
    balance = _fmt(p["Monthly_Balance"].to_numpy())
    # The extract has exactly one; keep the rate but never fewer than one.
    count = min(n, max(1, round(n * R["monthly_balance_placeholder"])))
    balance[rng.choice(n, size=count, replace=False)] = BALANCE_PLACEHOLDER

    columns = {
        "Customer_ID": ids, "Annual_Income": income,
        "Monthly_Inhand_Salary": _fmt(p["Monthly_Inhand_Salary"].to_numpy()),
        "Num_Bank_Accounts": accounts, "Num_Credit_Card": cards, "Interest_Rate": rate, "Num_of_Loan": loans,
        "Type_of_Loan": loan_types, "Delay_from_due_date": _fmt(p["Delay_from_due_date"].to_numpy()),
        "Num_of_Delayed_Payment": delayed, "Changed_Credit_Limit": limit, "Num_Credit_Inquiries": inquiries,
        "Credit_Mix": mix, "Outstanding_Debt": debt,
        "Credit_Utilization_Ratio": _fmt(p["Credit_Utilization_Ratio"].to_numpy()),
        "Credit_History_Age": history, "Payment_of_Min_Amount": min_amount, "Total_EMI_per_month": emi,
        "Amount_invested_monthly": invested, "Payment_Behaviour": behaviour, "Monthly_Balance": balance,
        "snapshot_date": dates,
    }
    return {c: columns[c] for c in FINANCIALS.columns}


# ----------------------------------------------------------------------------------------------
# writing


def _atomic_write(path: Path, write: Callable[[IO[bytes]], int]) -> int:
    with atomic_open(path) as fh:
        return write(fh)


def _csv_field(values: "np.ndarray | pa.Array") -> pa.Array:
    """Text of one column, quoted only where CSV needs it (the extract quotes Type_of_Loan lists)."""
    values = values if isinstance(values, pa.Array) else pa.array(values)
    text = values.cast(pa.string())
    if not pa.types.is_string(values.type):
        return text  # numbers never need quotes
    needs = pc.match_substring_regex(text, r'[",\r\n]')
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _write_csv(fh: IO[bytes], header: Sequence[str], blocks: Iterable[Columns]) -> int:
    """Header, then each block of columns as CSV lines; returns rows written.

    Lines are joined by Arrow, and the joined strings sit back to back in one buffer, so a block is
    written with one call, in CHUNK_ROWS slices (keeps 32-bit string offsets and memory in bounds).
    """
    fh.write((",".join(header) + "\n").encode())
    rows = 0
    for block in blocks:
        assert tuple(block) == tuple(header), f"columns {tuple(block)} != header {tuple(header)}"
        size = len(next(iter(block.values())))
        for lo in range(0, size, CHUNK_ROWS):
            fields = [_csv_field(v[lo : lo + CHUNK_ROWS]) for v in block.values()]
            fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")  # line end on the short last field
            lines = pc.binary_join_element_wise(*fields, ",")
            offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1, lines.offset * 4)
            fh.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])
            rows += len(lines)
    return rows


# ----------------------------------------------------------------------------------------------
# entry points


def _profile_files(
    streams: dict[str, np.random.Generator], ids: np.ndarray, profile: pd.DataFrame, defaulted: np.ndarray,
    start_idx: np.ndarray, months: np.ndarray,
) -> tuple[Columns, Columns]:
    """Attributes and financials: each customer's application row plus the later refreshes, ordered by
    customer then date, with personal data and dirty values added."""
    customers = len(ids)
    chosen, refresh_idx, refreshed = _refresh(streams["refresh"], profile, defaulted, start_idx)
    rows = np.concatenate([np.arange(customers), chosen])
    order = np.lexsort((np.concatenate([start_idx, refresh_idx]), rows))
    rows = rows[order]
    all_profiles = pd.concat([profile, refreshed], ignore_index=True).iloc[order].reset_index(drop=True)
    dates = months[np.concatenate([start_idx, refresh_idx])[order]]
    text = streams["text"]
    names, ssns = _names(text, customers)[rows], _ssns(text, customers)[rows]
    loan_types = _type_of_loan(text, profile["Num_of_Loan"].to_numpy())[rows]  # a refresh keeps the loans
    attributes = _attributes_columns(streams["attr"], ids[rows], names, ssns, all_profiles, dates)
    financials = _financials_columns(streams["fin"], ids[rows], all_profiles, loan_types, dates)
    return attributes, financials


def generate_loan_book(
    out_dir: Path,
    customers: int = 12500,
    start_month: str = "2023-01-01",
    loan_start_months: int = 25,
    seed: int = 611,
) -> dict[str, int]:
    """Write the four extracts into `out_dir`; returns rows written per file name."""
    if customers < 1 or loan_start_months < 1:
        raise ValueError("customers and loan_start_months must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # One independent stream per part, so changing one part does not reshuffle the others.
    streams = dict(zip(
        ("ids", "loans", "profile", "risk", "lms", "click", "refresh", "text", "attr", "fin"),
        (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)),
    ))
    months = month_labels(start_month, loan_start_months + TENURE)
    # Clickstream covers the calendar up to the month before the last loan start (real: 24 of 25).
    click_months = months[: max(1, loan_start_months - 1)]

    ids = _customer_ids(streams["ids"], customers)
    start_idx = streams["loans"].integers(0, loan_start_months, customers)
    q = _drift(start_idx, loan_start_months) + streams["loans"].standard_normal(customers)
    profile = _profiles(streams["profile"], q)
    propensity = _driver(streams["risk"], q, 0.6)
    score = _risk_score(profile, propensity, streams["risk"].normal(0.0, 0.5, customers))
    defaulted = streams["risk"].random(customers) < _calibrated_probability(score, DEFAULT_RATE)

    lms = _lms_columns(ids, start_idx, months, _paid_units(streams["lms"], defaulted))

    attributes, financials = _profile_files(streams, ids, profile, defaulted, start_idx, months)

    clicks = _clickstream_months(streams["click"], ids, propensity, click_months)  # generated while written
    outputs = ((LMS, [lms]), (CLICKSTREAM, clicks), (ATTRIBUTES, [attributes]), (FINANCIALS, [financials]))
    written = {}
    for contract, blocks in outputs:
        write = partial(_write_csv, header=contract.columns, blocks=blocks)
        written[contract.file_name] = _atomic_write(out_dir / contract.file_name, write)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loan_pipeline.sources.generator",
        description="Write the deterministic sample loan book (four CS611-layout CSV extracts).",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    parser.add_argument("--customers", type=int, default=12500, help="customers = loans (default 12500)")
    parser.add_argument("--months", type=int, default=25, help="number of loan start months (default 25)")
    parser.add_argument("--start", default="2023-01-01", help="first loan start month (default 2023-01-01)")
    parser.add_argument("--seed", type=int, default=611)
    parser.add_argument("--scale", type=int, default=1, help="multiply --customers, for benchmarks")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    began = time.perf_counter()
    counts = generate_loan_book(args.out, args.customers * args.scale, args.start, args.months, args.seed)
    for name, rows in counts.items():
        print(f"{args.out / name}: {rows:,} rows")
    print(f"generated in {time.perf_counter() - began:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
