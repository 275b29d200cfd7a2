"""Small inputs for the segmentation tests: well-separated blobs and a CC GENERAL folder on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs


def blobs(n_clusters: int, n: int = 600, seed: int = 0) -> np.ndarray:
    """Well-separated blobs in the unit cube (like MinMax-scaled features)."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(0, 1, size=(n_clusters, 3))
    # Keep centres apart so the structure is unambiguous.
    while min(np.linalg.norm(a - b) for i, a in enumerate(centers) for b in centers[i + 1:]) < 0.35:
        centers = rng.uniform(0, 1, size=(n_clusters, 3))
    X, _ = make_blobs(n_samples=n, centers=centers, cluster_std=0.02, random_state=seed)
    return X


def write_cc(folder, customers: pd.DataFrame, test_text: str = "BALANCE,PURCHASES,CREDIT_LIMIT\n100,20,1000"):
    folder.mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / "file.csv", index=False)
    (folder / "test.csv").write_text(test_text)
    return folder
