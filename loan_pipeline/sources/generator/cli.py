"""The command line: `python -m loan_pipeline.sources.generator --out DIR [--customers N] [--months M]
[--start YYYY-MM-01] [--seed S] [--scale K]` writes the sample loan book and prints the rows per file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

from loan_pipeline.sources.generator.generate import generate_loan_book


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
