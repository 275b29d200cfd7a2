"""Shared fixtures: the reference data sets in ../shared/data and one real Spark session per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loan_pipeline.settings import PROJECT_ROOT, load_settings

# Real public data sets live beside the project, never inside it.
REFERENCE_DATA = Path(os.environ.get("LOAN_PIPELINE_REFERENCE_DATA", PROJECT_ROOT.parent / "shared" / "data"))
CS611_DIR = REFERENCE_DATA / "cs611_loans"
CC_GENERAL_DIR = REFERENCE_DATA / "cc_general"


@pytest.fixture(scope="session")
def cs611_dir() -> Path:
    assert (CS611_DIR / "lms_loan_daily.csv").exists(), f"reference data missing: {CS611_DIR}"
    return CS611_DIR


@pytest.fixture(scope="session")
def cc_general_dir() -> Path:
    assert (CC_GENERAL_DIR / "file.csv").exists(), f"reference data missing: {CC_GENERAL_DIR}"
    return CC_GENERAL_DIR


@pytest.fixture(scope="session")
def spark_resource():
    """The project's own lazy Spark resource, shared by every test so the JVM starts once."""
    from loan_pipeline.resources import build_spark_resource

    return build_spark_resource(load_settings())


@pytest.fixture(scope="session")
def spark(spark_resource):
    return spark_resource.spark_session
