"""Small sample data for the deployment tests, made by the project's own generator."""

from __future__ import annotations

import csv
from pathlib import Path

from loan_pipeline.sources.generator import generate_loan_book
from loan_pipeline.sources.schemas import ATTRIBUTES

# The asset the deployment tests materialize: partitioned, Spark, and built from the smallest extract.
ASSET = "bronze_attributes"
CUSTOMERS = 300


def write_sample_data(out_dir: Path) -> Path:
    generate_loan_book(out_dir, customers=CUSTOMERS)
    return out_dir


def first_partition(data_dir: Path) -> str:
    """The month (YYYY-MM-01) of the first attributes row: a partition that certainly has data."""
    with open(data_dir / ATTRIBUTES.file_name, newline="") as f:
        row = next(csv.DictReader(f))
    return row[ATTRIBUTES.date_column][:7] + "-01"
