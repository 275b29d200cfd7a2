"""The benchmarks' memory figure: the peak RSS of a whole process tree, each address space counted once."""

import sys

from benchmarks.measure import run_measured

HOLD = "import numpy, sys, time; block = numpy.ones({mib} * 2**17); print('ready', flush=True); time.sleep({seconds})"


def test_peak_rss_sums_the_processes_of_the_tree():
    # A parent holding ~300 MiB that starts a child holding ~200 MiB: the peak is their sum.
    script = (
        "import numpy, subprocess, sys; block = numpy.ones(300 * 2**17); "
        f"subprocess.run([sys.executable, '-c', {HOLD.format(mib=200, seconds=1.0)!r}], check=True)"
    )
    _, peak_gib, _ = run_measured([sys.executable, "-c", script])
    assert 0.45 < peak_gib < 0.75
