"""The dirty values of the profile extracts: each kind's rate as counted in the real extract, the
placeholder texts, and the helpers that format numbers like the extract and inject dirty values into
chosen rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

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


def fmt(values: np.ndarray) -> np.ndarray:
    """Python's text of each number, like the extract: 1000.0, 2706.1616666666664, 6 (faster than numpy's)."""
    return np.array(list(map(str, np.asarray(values).tolist())), dtype=object)


def exclusive_masks(rng: np.random.Generator, n: int, rates: Sequence[float]) -> list[np.ndarray]:
    """Disjoint row masks with the given rates (one draw, so a row gets at most one of them)."""
    u = rng.random(n)
    edges = np.concatenate([[0.0], np.cumsum(rates)])
    return [(u >= lo) & (u < hi) for lo, hi in zip(edges[:-1], edges[1:])]


def row_mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def put(text: np.ndarray, mask: np.ndarray, value) -> None:
    text[mask] = value[mask] if isinstance(value, np.ndarray) else value


def add_suffix(text: np.ndarray, mask: np.ndarray, suffix: str = "_") -> None:
    text[mask] = text[mask] + suffix
