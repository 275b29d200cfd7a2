"""The shared customer population every extract is written from: a latent credit quality per customer
(drifting riskier over the later start months), the application-time profile drawn from it, the risk
score computed from that profile and the default probability calibrated to `DEFAULT_RATE`, plus the
later profile refreshes of a few customers (deliberate leakage bait).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd

from loan_pipeline.sources.schemas import CREDIT_MIX, OCCUPATIONS, PAYMENT_BEHAVIOURS, PAYMENT_OF_MIN_AMOUNT

# Share of customers whose attributes/financials get a later refresh row (deliberate leakage bait).
REFRESH_SHARE = 0.05
REFRESH_MAX_MONTHS = 9  # refresh lands 1..9 months after the loan start, inside the loan's life

# Expected share of loans that stop paying; label (dpd >= 30 at mob 6) is ~ this share.
DEFAULT_RATE = 0.28
# Slope of the logistic default model on the risk score: sets how separable defaults are.
RISK_SCALE = 1.3
# Mean shift of the latent quality by the last start month (0 until half way): the drift.
DRIFT_MAX = 0.3

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


def driver(rng: np.random.Generator, q: np.ndarray, rho: float) -> np.ndarray:
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


def customer_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    # Real ids are a sparse random subset of hex numbers (0x3ee .. 0xc737); keep it sparse at any size.
    span = max(50_000, 4 * n)
    numbers = 1000 + rng.choice(span, size=n, replace=False)
    ids = np.array([f"CUS_0x{v:x}" for v in numbers], dtype=object)
    return np.sort(ids)  # files are ordered by Customer_ID text, like the extract


def drift(start_idx: np.ndarray, loan_start_months: int) -> np.ndarray:
    half = (loan_start_months - 1) / 2
    return DRIFT_MAX * np.clip((start_idx - half) / max(half, 1.0), 0.0, 1.0)


def profiles(rng: np.random.Generator, q: np.ndarray) -> pd.DataFrame:
    """Clean application-time profile values, one row per customer."""
    n = len(q)
    occupation = np.asarray(OCCUPATIONS, dtype=object)[rng.integers(0, len(OCCUPATIONS), n)]
    age = np.clip(np.rint(33.5 - 10.0 * driver(rng, q, 0.2)), 14, 56).astype(np.int64)
    income = np.clip(np.exp(10.53 + 0.85 * driver(rng, q, -0.3)), 7000.0, 179_900.0)
    salary = income / 12.0 / np.exp(rng.normal(0.0, 0.08, n))
    loans = _scaled_int(driver(rng, q, 0.45), 3.4, 2.4, 0, 9)
    emi = np.where(loans > 0, loans * np.exp(rng.normal(3.2, 0.9, n)), 0.0)
    u_debt = driver(rng, q, 0.55)
    # Weibull(1.2, 1500) quantiles of the driver: the extract's right-skewed debt, capped like it.
    debt = np.round(np.clip(1500.0 * (-np.log1p(-_norm_cdf(u_debt))) ** (1 / 1.2), 0.23, 4998.0), 2)
    return pd.DataFrame(
        {
            "Age": age,
            "Occupation": occupation,
            "Annual_Income": np.round(income, 2),
            "Monthly_Inhand_Salary": salary,
            "Num_Bank_Accounts": _scaled_int(driver(rng, q, 0.45), 5.4, 2.6, 0, 11),
            "Num_Credit_Card": _scaled_int(driver(rng, q, 0.45), 5.5, 2.1, 0, 11),
            "Interest_Rate": _scaled_int(driver(rng, q, 0.55), 14.5, 9.0, 1, 34),
            "Num_of_Loan": loans,
            "Delay_from_due_date": _scaled_int(np.exp(3.0 + 0.7 * driver(rng, q, 0.55)), -3.0, 1.0, -5, 67),
            "Num_of_Delayed_Payment": _scaled_int(driver(rng, q, 0.45), 13.5, 6.5, 0, 28),
            "Changed_Credit_Limit": np.round(10.4 + 6.5 * driver(rng, q, 0.2), 2),
            "Num_Credit_Inquiries": _scaled_int(driver(rng, q, 0.5), 6.5, 4.2, 0, 17),
            "Credit_Mix": _bins(driver(rng, q, 0.6), list(MIX_SHARE), list(MIX_SHARE.values())),
            "Outstanding_Debt": debt,
            "Credit_Utilization_Ratio": np.clip(rng.normal(32.35, 5.1, n), 20.1, 48.2),
            "Credit_History_Months": _scaled_int(driver(rng, q, -0.5), 225.0, 95.0, 8, 404),
            # Yes for the riskier 59%; NM (hiding the answer) is applied when formatting.
            "Min_Amount_True": np.where(driver(rng, q, 0.45) > -0.24, "Yes", "No").astype(object),
            "Total_EMI_per_month": np.minimum(emi, 1790.0),
            "Amount_invested_monthly": salary * 0.045 * np.exp(rng.normal(0.0, 0.5, n)),
            "Payment_Behaviour": _bins(driver(rng, q, 0.4), list(BEHAVIOUR_SHARE), list(BEHAVIOUR_SHARE.values())),
            "Monthly_Balance": np.exp(5.85 + 0.3 * (np.log(salary) - 8.0) + rng.normal(0.0, 0.45, n)),
        }
    )


def risk_score(profile: pd.DataFrame, click_propensity: np.ndarray, noise: np.ndarray) -> np.ndarray:
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


def calibrated_probability(score: np.ndarray, rate: float) -> np.ndarray:
    """Default probabilities sigmoid(a + RISK_SCALE * score) with `a` chosen so they average `rate`."""
    lo, hi = -20.0, 20.0
    for _ in range(60):  # bisection: the mean is monotone in a
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + RISK_SCALE * score)))) < rate:
            lo = mid
        else:
            hi = mid
    return 1.0 / (1.0 + np.exp(-(lo + RISK_SCALE * score)))


def refresh(
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
