"""Without ../shared/data a real-data test skips with the reason; with LOAN_PIPELINE_REQUIRE_REFERENCE_DATA=1
(as .ci/run sets) it fails instead, so CI can never skip it silently."""

import os
import subprocess
import sys

from loan_pipeline.settings import PROJECT_ROOT

REAL_DATA_TEST = "loan_pipeline_tests/sources/test_generator.py::test_headers_equal_the_real_files"


def _run(tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", REAL_DATA_TEST],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "LOAN_PIPELINE_REFERENCE_DATA": str(tmp_path / "absent"), **env},
    )


def test_real_data_tests_skip_on_a_clone_and_fail_where_required(tmp_path):
    clone = _run(tmp_path, LOAN_PIPELINE_REQUIRE_REFERENCE_DATA="")
    assert clone.returncode == 0 and "1 skipped" in clone.stdout and "reference data missing" in clone.stdout, clone.stdout
    ci = _run(tmp_path, LOAN_PIPELINE_REQUIRE_REFERENCE_DATA="1")
    assert ci.returncode != 0 and "1 error" in ci.stdout and "forbids skipping" in ci.stdout, ci.stdout
