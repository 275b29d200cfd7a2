"""Sample credit-card customers in the CC GENERAL layout, generated deterministically from a seed.

The project ships no copy of the public data set; the main command calls `generate_cc_general` to
create `data/cc_general/` on first run, and the segmentation reads it by default.

What it writes (the same layout and quirks as the real extract):
- `file.csv`: the 18 CC GENERAL columns, one row per customer, ids C10001, C10002, ...; blanks in
  MINIMUM_PAYMENTS (~3.5%) and exactly one in CREDIT_LIMIT.
- `test.csv`: one new customer, columns BALANCE, PURCHASES, CREDIT_LIMIT, no trailing newline.

Customers come from a few personas (dormant, revolver, transactor, high balance, premium), so there
are natural segments to find; within a persona amounts are log-normal, frequencies are whole
months over the tenure, and the columns stay consistent with each other (one-off + instalment
purchases = purchases, frequencies <= 1, transactions >= active months, ...).

CLI: `python -m loan_pipeline.sources.cc_generator --out DIR [--customers N] [--seed S]`
"""

from __future__ import annotations

import argparse
import json
from loan_pipeline.files import atomic_write_bytes
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# The CC GENERAL layout (the contract the segmentation validates against).
CC_ID = "CUST_ID"
CC_COLUMNS: tuple[str, ...] = (
    "CUST_ID", "BALANCE", "BALANCE_FREQUENCY", "PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE", "PURCHASES_FREQUENCY", "ONEOFF_PURCHASES_FREQUENCY", "PURCHASES_INSTALLMENTS_FREQUENCY",
    "CASH_ADVANCE_FREQUENCY", "CASH_ADVANCE_TRX", "PURCHASES_TRX", "CREDIT_LIMIT", "PAYMENTS",
    "MINIMUM_PAYMENTS", "PRC_FULL_PAYMENT", "TENURE",
)
CC_INT_COLUMNS: tuple[str, ...] = ("CASH_ADVANCE_TRX", "PURCHASES_TRX", "TENURE")
CC_CUSTOMERS_FILE = "file.csv"
CC_TEST_FILE = "test.csv"
CC_TEST_COLUMNS: tuple[str, ...] = ("BALANCE", "PURCHASES", "CREDIT_LIMIT")  # as in the real test.csv

DEFAULT_SEED = 20240611
DEFAULT_CUSTOMERS = 8950
MINIMUM_PAYMENTS_BLANK_SHARE = 0.035  # 313 of 8,950 in the real extract


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    limit_median: float
    balance_to_limit: tuple[float, float]  # beta(a, b) share of the limit carried as balance
    purchases_median: float
    purchases_zero: float  # probability of no purchase at all
    oneoff_share: tuple[float, float]  # beta(a, b) share of purchases that are one-off
    cash_median: float
    cash_zero: float
    full_payment: tuple[float, float]  # beta(a, b) share of months paid in full


PERSONAS: tuple[Persona, ...] = (
    Persona("dormant", 0.40, 1_500, (1.2, 5.0), 250, 0.35, (1.0, 2.0), 400, 0.75, (1.0, 6.0)),
    Persona("revolver", 0.20, 4_000, (6.0, 2.5), 150, 0.60, (2.0, 2.0), 2_500, 0.15, (0.3, 12.0)),
    Persona("transactor", 0.20, 6_500, (1.0, 8.0), 2_200, 0.02, (2.0, 1.5), 200, 0.85, (4.0, 1.5)),
    Persona("high_balance", 0.12, 9_000, (5.0, 2.0), 1_000, 0.25, (1.5, 1.5), 1_500, 0.40, (0.5, 8.0)),
    Persona("premium", 0.08, 15_000, (2.0, 4.0), 6_000, 0.01, (3.0, 1.0), 300, 0.80, (3.0, 2.0)),
)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, n))


def _active_months(rng: np.random.Generator, tenure: np.ndarray, active: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Months with activity: 0 when inactive, else 1..tenure."""
    months = np.maximum(rng.binomial(tenure, np.clip(rate, 0.02, 1.0)), 1)
    return np.where(active, np.minimum(months, tenure), 0)


def generate_customers(customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The `file.csv` table (typed, blanks as NA) for `customers` customers."""
    if customers < 2:
        raise ValueError(f"customers must be at least 2, got {customers}")
    rng = np.random.default_rng(seed)
    n = customers
    shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())

    def per(attr: str, index: int | None = None) -> np.ndarray:
        values = [getattr(p, attr) if index is None else getattr(p, attr)[index] for p in PERSONAS]
        return np.asarray(values, dtype=float)[persona]

    tenure = np.where(rng.random(n) < 0.85, 12, rng.integers(6, 12, n))
    limit = np.clip(np.round(_lognormal(rng, 1.0, 0.45, n) * per("limit_median") / 50) * 50, 50, 30_000)

    balance = limit * rng.beta(per("balance_to_limit", 0), per("balance_to_limit", 1)) * _lognormal(rng, 1.0, 0.25, n)
    balance = np.where(rng.random(n) < 0.01, 0.0, balance)
    balance_frequency = np.where(balance == 0, 0.0, np.where(rng.random(n) < 0.7, 1.0, rng.integers(1, 11, n) / 11))

    buys = rng.random(n) >= per("purchases_zero")
    purchases = np.where(buys, _lognormal(rng, 1.0, 0.9, n) * per("purchases_median"), 0.0)
    oneoff = purchases * rng.beta(per("oneoff_share", 0), per("oneoff_share", 1))
    instalments = purchases - oneoff
    purchase_months = _active_months(rng, tenure, buys, np.log1p(purchases) / 9)
    oneoff_months = np.where(oneoff > 1, np.maximum(np.round(purchase_months * rng.random(n)), 1), 0)
    instalment_months = np.where(instalments > 1, np.maximum(np.round(purchase_months * rng.random(n)), 1), 0)
    purchases_trx = purchase_months * rng.integers(1, 5, n)

    advances = rng.random(n) >= per("cash_zero")
    cash = np.where(advances, _lognormal(rng, 1.0, 0.8, n) * per("cash_median"), 0.0)
    cash_months = _active_months(rng, tenure, advances, np.log1p(cash) / 14)
    cash_trx = cash_months * rng.integers(1, 4, n)

    full = rng.beta(per("full_payment", 0), per("full_payment", 1))
    prc_full = np.round(full * tenure) / tenure
    payments = (purchases + cash) * _lognormal(rng, 1.0, 0.5, n) + balance * rng.uniform(0.05, 0.4, n)
    payments = np.where(rng.random(n) < 0.02, 0.0, payments)
    minimum = np.maximum(balance * rng.uniform(0.03, 0.35, n), rng.uniform(0.02, 150.0, n))

    df = pd.DataFrame(
        {
            "CUST_ID": [f"C{10001 + i}" for i in range(n)],
            "BALANCE": balance,
            "BALANCE_FREQUENCY": balance_frequency,
            "PURCHASES": purchases,
            "ONEOFF_PURCHASES": oneoff,
            "INSTALLMENTS_PURCHASES": instalments,
            "CASH_ADVANCE": cash,
            "PURCHASES_FREQUENCY": purchase_months / tenure,
            "ONEOFF_PURCHASES_FREQUENCY": oneoff_months / tenure,
            "PURCHASES_INSTALLMENTS_FREQUENCY": instalment_months / tenure,
            "CASH_ADVANCE_FREQUENCY": cash_months / tenure,
            "CASH_ADVANCE_TRX": cash_trx.astype("int64"),
            "PURCHASES_TRX": purchases_trx.astype("int64"),
            "CREDIT_LIMIT": pd.array(limit.astype("int64"), dtype="Int64"),
            "PAYMENTS": payments,
            "MINIMUM_PAYMENTS": minimum,
            "PRC_FULL_PAYMENT": prc_full,
            "TENURE": tenure.astype("int64"),
        },
        columns=list(CC_COLUMNS),
    )
    float_columns = [c for c in df.columns if df[c].dtype == "float64"]
    df[float_columns] = df[float_columns].round(6)
    # Blanks like the real extract: ~3.5% of MINIMUM_PAYMENTS and one CREDIT_LIMIT.
    blanks = rng.choice(n, size=max(1, round(n * MINIMUM_PAYMENTS_BLANK_SHARE)), replace=False)
    df.loc[blanks, "MINIMUM_PAYMENTS"] = np.nan
    df.loc[int(rng.integers(0, n)), "CREDIT_LIMIT"] = pd.NA
    return df


def generate_test_customer(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """One new customer with only the default features (like the real test.csv)."""
    rng = np.random.default_rng(seed + 1)
    return pd.DataFrame(
        {
            "BALANCE": [round(float(rng.uniform(500, 4000)), 6)],
            "PURCHASES": [round(float(rng.uniform(50, 1500)), 2)],
            "CREDIT_LIMIT": [int(rng.integers(10, 120)) * 100],
        },
        columns=list(CC_TEST_COLUMNS),
    )


def _write_text(path: Path, text: str) -> None:
    # Rename into place: a half-written file never looks like a complete data set.
    atomic_write_bytes(path, text.encode())


def generate_cc_general(out_dir: Path, customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write `file.csv` and `test.csv` into `out_dir` (created if needed); returns row and blank counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    df = generate_customers(customers, seed)
    test = generate_test_customer(seed)
    _write_text(out_dir / CC_CUSTOMERS_FILE, df.to_csv(index=False, lineterminator="\n"))
    # The real test.csv has no trailing newline.
    _write_text(out_dir / CC_TEST_FILE, test.to_csv(index=False, lineterminator="\n").rstrip("\n"))
    return {
        "customers": len(df),
        "test_customers": len(test),
        "blank_minimum_payments": int(df["MINIMUM_PAYMENTS"].isna().sum()),
        "blank_credit_limit": int(df["CREDIT_LIMIT"].isna().sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate a CC GENERAL-like sample (file.csv, test.csv).")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    print(json.dumps(generate_cc_general(args.out, args.customers, args.seed)))


if __name__ == "__main__":
    main()
