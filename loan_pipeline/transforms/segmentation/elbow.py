"""The elbow: SSE (k-means inertia) for k = 1..K in one non-increasing sweep, and the number of
segments at its elbow as found by kneed. K is the configured maximum, lowered (monthly loan book) or
refused (CC) when there are fewer rows than K.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from loan_pipeline.transforms.segmentation.inputs import SegmentationInputError
from loan_pipeline.transforms.segmentation.kmeans import LLOYD, RANDOM_STATE, single_threaded


@dataclass(frozen=True)
class Elbow:
    ks: list[int]
    sse: list[float]
    k: int
    found: bool  # False when kneed found no elbow and k fell back to 1
    max_k: int
    requested_max_k: int
    n_rows: int


def effective_max_k(n_rows: int, max_k: int, source: str, reduce: bool) -> int:
    """K for the sweep. `reduce=False` (CC): fewer rows than K is an error. `reduce=True` (monthly
    loan book): K becomes n - 1, at least 1."""
    if max_k < 1:
        raise SegmentationInputError(f"{source}: max_k must be at least 1, got {max_k}")
    if n_rows < 1:
        raise SegmentationInputError(f"{source}: no row to segment")
    if n_rows >= max_k:
        return max_k
    if not reduce:
        raise SegmentationInputError(
            f"{source}: {n_rows} customers with all features, fewer than max_k={max_k} (k-means for k = 1..{max_k} "
            f"needs at least {max_k}); lower max_k or supply more customers"
        )
    return max(n_rows - 1, 1)


def _greedy_kmeanspp_center(X: np.ndarray, closest_d2: np.ndarray, rng: np.random.RandomState) -> int:
    """Index of the next centre: sklearn's greedy k-means++ step (best of a few D^2-weighted draws)."""
    total = closest_d2.sum()
    n_trials = 2 + int(math.log(max(len(X), 2)))
    candidates = np.searchsorted(np.cumsum(closest_d2), rng.random_sample(n_trials) * total)
    candidates = np.clip(candidates, 0, len(X) - 1)
    d2 = ((X[None, :, :] - X[candidates][:, None, :]) ** 2).sum(axis=2)
    potentials = np.minimum(closest_d2[None, :], d2).sum(axis=1)
    return int(candidates[int(np.argmin(potentials))])


def sse_sweep(X: np.ndarray, max_k: int, random_state: int = RANDOM_STATE) -> list[float]:
    """SSE for k = 1..max_k in one sweep; non-increasing by construction.

    For each k two Lloyd runs compete and the lower SSE is kept: one warm-started from the best
    centres for k-1 plus a greedy k-means++ centre (its start is already at or below SSE(k-1), and
    Lloyd never raises it), one fresh k-means++ start (so the sweep does not stay stuck in the basin
    an early k chose; warm starts alone moved the real data's elbow from 7 to 8).
    """
    from sklearn.cluster import KMeans

    rng = np.random.RandomState(random_state)
    centers = X.mean(axis=0, keepdims=True)
    sse = [float(((X - centers) ** 2).sum())]
    closest_d2 = ((X - centers) ** 2).sum(axis=1)
    with single_threaded():
        for k in range(2, max_k + 1):
            if closest_d2.sum() <= 1e-12 * sse[0]:
                # Every row sits on a centre (fewer distinct rows than k): more centres cannot help.
                sse.extend([0.0] * (max_k - k + 1))
                break
            new = _greedy_kmeanspp_center(X, closest_d2, rng)
            warm = KMeans(n_clusters=k, init=np.vstack([centers, X[new]]), n_init=1, **LLOYD).fit(X)
            fresh = KMeans(n_clusters=k, init="k-means++", n_init=1, random_state=rng.randint(2**31 - 1), **LLOYD).fit(X)
            best = warm if warm.inertia_ <= fresh.inertia_ else fresh
            centers = best.cluster_centers_
            sse.append(float(best.inertia_))
            # sklearn's final labels are the nearest centres, so this is each row's distance to its closest centre.
            closest_d2 = ((X - centers[best.labels_]) ** 2).sum(axis=1)
    return sse


def find_elbow(ks: Sequence[int], sse: Sequence[float]) -> tuple[int, bool]:
    """kneed's elbow of a convex, decreasing SSE curve; (1, False) when it finds none."""
    if len(ks) < 3:
        return 1, False
    from kneed import KneeLocator

    with warnings.catch_warnings():
        # kneed warns (and divides by zero on flat curves) when there is no elbow; we report that as found=False.
        warnings.simplefilter("ignore")
        elbow = KneeLocator(list(ks), list(sse), curve="convex", direction="decreasing").elbow
    if elbow is None:
        return 1, False
    return int(elbow), True


def compute_elbow(X: np.ndarray, max_k: int, source: str, reduce_k: bool = False) -> Elbow:
    k_max = effective_max_k(len(X), max_k, source, reduce=reduce_k)
    sse = sse_sweep(X, k_max)
    ks = list(range(1, k_max + 1))
    k, found = find_elbow(ks, sse)
    return Elbow(ks=ks, sse=sse, k=k, found=found, max_k=k_max, requested_max_k=max_k, n_rows=len(X))
