"""Fixtures shared by the segmentation tests: a small generated CC sample and the whole CC segmentation
of the real CC GENERAL data (computed once for the package: it takes seconds)."""

from __future__ import annotations

import pandas as pd
import pytest

from loan_pipeline.sources import cc_generator
from loan_pipeline.transforms.segmentation.pipeline import run_cc_segmentation


@pytest.fixture(scope="module")
def sample_customers(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("cc_small")
    cc_generator.generate_cc_general(folder, customers=400, seed=7)
    return pd.read_csv(folder / "file.csv")


@pytest.fixture(scope="package")
def real_run(cc_general_dir):
    return run_cc_segmentation(cc_general_dir)
