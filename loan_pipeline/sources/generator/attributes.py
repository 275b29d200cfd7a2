"""The attributes extract (`features_attributes.csv`): name, age, SSN and occupation per profile row,
with the real extract's dirty values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loan_pipeline.sources.generator.csv_writer import Columns
from loan_pipeline.sources.generator.dirty import (
    DIRTY_RATES, OCCUPATION_PLACEHOLDER, SSN_PLACEHOLDER, add_suffix, exclusive_masks, fmt, put, row_mask,
)
from loan_pipeline.sources.schemas import ATTRIBUTES

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


def random_names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.asarray(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    # The extract has full names for ~40% of customers and a single name for the rest.
    return np.where(rng.random(n) < 0.4, first + " " + last, np.where(rng.random(n) < 0.5, first, last))


def random_ssns(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.integers(1, 900, n)
    area = np.where(area == 666, 667, area)  # 666 is never issued
    group, serial = rng.integers(1, 100, n), rng.integers(1, 10_000, n)
    return np.array([f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial)], dtype=object)


def attributes_columns(rng: np.random.Generator, ids, names, ssns, profile: pd.DataFrame, dates) -> Columns:
    n = len(ids)
    age = fmt(profile["Age"].to_numpy())
    negative, too_old = exclusive_masks(rng, n, [DIRTY_RATES["age_negative"], DIRTY_RATES["age_too_old"]])
    put(age, negative, "-500")
    put(age, too_old, fmt(rng.integers(57, 8679, n)))
    add_suffix(age, row_mask(rng, n, DIRTY_RATES["age_trailing_underscore"]))
    ssn = ssns.copy()
    put(ssn, row_mask(rng, n, DIRTY_RATES["ssn_placeholder"]), SSN_PLACEHOLDER)
    occupation = profile["Occupation"].to_numpy(dtype=object).copy()
    put(occupation, row_mask(rng, n, DIRTY_RATES["occupation_placeholder"]), OCCUPATION_PLACEHOLDER)
    columns = {
        "Customer_ID": ids, "Name": names, "Age": age, "SSN": ssn, "Occupation": occupation, "snapshot_date": dates,
    }
    return {c: columns[c] for c in ATTRIBUTES.columns}
