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


def test_a_jvms_child_that_has_not_exec_d_yet_is_not_counted_twice():
    from benchmarks.measure import tree_rss_bytes

    gib = 2**30
    processes = {
        1: (0, "/usr/bin/python3.11", 1 * gib),
        2: (1, "/usr/lib/jvm/java-17/bin/java", 2 * gib),
        3: (2, "/usr/lib/jvm/java-17/bin/java", 2 * gib),  # vfork child of the JVM before its exec
        4: (2, "/usr/bin/chmod", gib // 100),  # a child that has exec'd counts
        5: (1, "/usr/bin/python3.11", gib // 2),  # a forked Python worker has its own memory
        9: (0, "/usr/bin/other", 5 * gib),  # not in the tree
    }
    assert tree_rss_bytes(1, processes) == 1 * gib + 2 * gib + gib // 100 + gib // 2
