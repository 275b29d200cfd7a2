"""Shared fixtures: the reference data sets in ../shared/data and one real Spark session per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loan_pipeline.settings import REFERENCE_DATA_VARIABLE, load_settings, reference_data_dir

# Real public data sets live beside the project, never inside it. On a clone alone the tests that need
# them skip; CI sets LOAN_PIPELINE_REQUIRE_REFERENCE_DATA=1 (.ci/run) so that they can never skip there.
REFERENCE_DATA = reference_data_dir()
CS611_DIR = REFERENCE_DATA / "cs611_loans"
CC_GENERAL_DIR = REFERENCE_DATA / "cc_general"
REQUIRE_REFERENCE_DATA = "LOAN_PIPELINE_REQUIRE_REFERENCE_DATA"


def reference_file(path: Path) -> Path:
    if not path.exists():
        reason = f"reference data missing: {path} (see ../shared/data/README.md, or set {REFERENCE_DATA_VARIABLE})"
        if os.environ.get(REQUIRE_REFERENCE_DATA) == "1":
            pytest.fail(f"{reason}; {REQUIRE_REFERENCE_DATA}=1 forbids skipping")
        pytest.skip(reason)
    return path.parent


@pytest.fixture(scope="session")
def cs611_dir() -> Path:
    return reference_file(CS611_DIR / "lms_loan_daily.csv")


@pytest.fixture(scope="session")
def cc_general_dir() -> Path:
    return reference_file(CC_GENERAL_DIR / "file.csv")


@pytest.fixture(scope="session")
def spark_resource():
    """The project's own lazy Spark resource, shared by every test so the JVM starts once."""
    from loan_pipeline.resources import build_spark_resource

    return build_spark_resource(load_settings())


@pytest.fixture(scope="session")
def spark(spark_resource):
    return spark_resource.spark_session
