"""`generate_loan_book`: one run of the generator, from the seed to the four files. Each part draws
from its own random stream, so changing one part does not reshuffle the others.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from loan_pipeline.sources.generator.attributes import attributes_columns, random_names, random_ssns
from loan_pipeline.sources.generator.clickstream import clickstream_months
from loan_pipeline.sources.generator.csv_writer import Columns, atomic_write, write_csv
from loan_pipeline.sources.generator.financials import financials_columns, type_of_loan
from loan_pipeline.sources.generator.lms import TENURE, lms_columns, paid_units
from loan_pipeline.sources.generator.population import (
    DEFAULT_RATE, calibrated_probability, customer_ids, drift, driver, profiles, refresh, risk_score,
)
from loan_pipeline.sources.schemas import ATTRIBUTES, CLICKSTREAM, FINANCIALS, LMS


def month_labels(start_month: str, count: int) -> np.ndarray:
    """ISO first-of-month dates: start_month, start_month + 1 month, ..."""
    start = pd.Timestamp(start_month)
    if start.day != 1:
        raise ValueError(f"start_month must be the first of a month, got {start_month!r}")
    return pd.date_range(start, periods=count, freq="MS").strftime("%Y-%m-%d").to_numpy(dtype=object)


def _profile_files(
    streams: dict[str, np.random.Generator], ids: np.ndarray, profile: pd.DataFrame, defaulted: np.ndarray,
    start_idx: np.ndarray, months: np.ndarray,
) -> tuple[Columns, Columns]:
    """Attributes and financials: each customer's application row plus the later refreshes, ordered by
    customer then date, with personal data and dirty values added."""
    customers = len(ids)
    chosen, refresh_idx, refreshed = refresh(streams["refresh"], profile, defaulted, start_idx)
    rows = np.concatenate([np.arange(customers), chosen])
    order = np.lexsort((np.concatenate([start_idx, refresh_idx]), rows))
    rows = rows[order]
    all_profiles = pd.concat([profile, refreshed], ignore_index=True).iloc[order].reset_index(drop=True)
    dates = months[np.concatenate([start_idx, refresh_idx])[order]]
    text = streams["text"]
    names, ssns = random_names(text, customers)[rows], random_ssns(text, customers)[rows]
    loan_types = type_of_loan(text, profile["Num_of_Loan"].to_numpy())[rows]  # a refresh keeps the loans
    attributes = attributes_columns(streams["attr"], ids[rows], names, ssns, all_profiles, dates)
    financials = financials_columns(streams["fin"], ids[rows], all_profiles, loan_types, dates)
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

    ids = customer_ids(streams["ids"], customers)
    start_idx = streams["loans"].integers(0, loan_start_months, customers)
    q = drift(start_idx, loan_start_months) + streams["loans"].standard_normal(customers)
    profile = profiles(streams["profile"], q)
    propensity = driver(streams["risk"], q, 0.6)
    score = risk_score(profile, propensity, streams["risk"].normal(0.0, 0.5, customers))
    defaulted = streams["risk"].random(customers) < calibrated_probability(score, DEFAULT_RATE)

    lms = lms_columns(ids, start_idx, months, paid_units(streams["lms"], defaulted))

    attributes, financials = _profile_files(streams, ids, profile, defaulted, start_idx, months)

    clicks = clickstream_months(streams["click"], ids, propensity, click_months)  # generated while written
    outputs = ((LMS, [lms]), (CLICKSTREAM, clicks), (ATTRIBUTES, [attributes]), (FINANCIALS, [financials]))
    written = {}
    for contract, blocks in outputs:
        write = partial(write_csv, header=contract.columns, blocks=blocks)
        written[contract.file_name] = atomic_write(out_dir / contract.file_name, write)
    return written
