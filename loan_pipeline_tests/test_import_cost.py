"""Loading the Dagster definitions must not import the ML stack (seconds on a 2-core box): scikit-learn,
scipy, matplotlib and kneed are imported by the functions that train, score, plot or segment."""

import subprocess
import sys

from loan_pipeline.settings import PROJECT_ROOT

HEAVY = ("sklearn", "matplotlib", "kneed", "scipy")


def test_loading_the_definitions_does_not_import_the_ml_stack():
    code = f"import sys, loan_pipeline.definitions; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    # A fresh interpreter: this test process has usually imported them already.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", (
        f"imported while loading the definitions: {result.stdout.strip()}; move these imports into the functions that use them"
    )
