"""The fixed k-means settings shared by the elbow sweep and the final model (same input -> same k,
same model, same assignments), and the single-threaded context every k-means fit runs in.
"""

from __future__ import annotations

DEFAULT_MAX_K = 49  # as in the seed
RANDOM_STATE = 42
FINAL_N_INIT = 10
LLOYD = dict(algorithm="lloyd", max_iter=300, tol=1e-4)


def single_threaded():
    """k-means on a few thousand rows x 3 features gains nothing from threads, and OpenMP threads on a
    busy 2-core machine (Spark next door) made the sweep 10-20x slower (measured), so run on one."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)
