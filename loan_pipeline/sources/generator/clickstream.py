"""The clickstream extract (`feature_clickstream.csv`): monthly fe_1..fe_20 values for about 72% of
the customers, some of them shifted by the customer's risk propensity.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

from loan_pipeline.sources.generator.csv_writer import Columns
from loan_pipeline.sources.schemas import CLICKSTREAM, CLICKSTREAM_FEATURES

# Share of customers with clickstream (real: 8,974 of 12,500), every month of the clickstream calendar.
CLICKSTREAM_SHARE = 8974 / 12500


def clickstream_months(
    rng: np.random.Generator, ids: np.ndarray, propensity: np.ndarray, months: np.ndarray
) -> Iterator[Columns]:
    """One block of rows per month: fe_1..fe_20 integers ~ N(mean, 100) whose mean rises with the
    risk propensity for fe_1..fe_5 and falls with it for fe_6..fe_10 (like the extract); fe_11..fe_20
    are noise. The same customers appear every month."""
    has = rng.random(len(ids)) < CLICKSTREAM_SHARE
    ids, propensity = pa.array(ids[has]), propensity[has]
    k = np.arange(1, len(CLICKSTREAM_FEATURES) + 1)
    base = 100.0 + np.where((k > 5) & (k <= 10), 3.0 * (k - 5), 0.0)
    slope = np.where(k <= 5, 5.0 * k, np.where(k <= 10, -5.0 * (k - 5), 0.0))
    means = (base[None, :] + propensity[:, None] * slope[None, :]).astype(np.float32)
    for month in months:
        values = np.rint(means + 100.0 * rng.standard_normal(means.shape, dtype=np.float32)).astype(np.int32)
        columns = {name: values[:, i] for i, name in enumerate(CLICKSTREAM_FEATURES)}
        columns["Customer_ID"] = ids
        columns["snapshot_date"] = pa.array(np.full(len(ids), month, dtype=object), pa.string())
        yield {c: columns[c] for c in CLICKSTREAM.columns}
