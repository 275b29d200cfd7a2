"""The statistics silver's checks compute on the written months (Arrow tables, no Spark)."""

import pyarrow as pa

from loan_pipeline.sources.schemas import LMS
from loan_pipeline.transforms.silver.quality import duplicate_key_rows, flag_counts, flagged_row_counts


def test_quality_statistics_count_flags_flagged_rows_and_repeated_keys():
    flags = pa.list_(pa.string())
    months = {
        "2024-01-01": pa.table({
            "loan_id": ["a", "b", "c", None],
            "snapshot_date": ["d1", "d1", "d1", "d1"],
            "dq_flags": pa.array([["x:placeholder", "y:out_of_range"], [], ["x:placeholder"], []], type=flags),
        }),
        "2024-02-01": pa.table({
            "loan_id": ["a", None, None],
            "snapshot_date": ["d1", "d1", "d2"],
            "dq_flags": pa.array([[], [], []], type=flags),
        }),
    }
    assert flag_counts(months) == {"2024-01-01": {"x:placeholder": 2, "y:out_of_range": 1}}
    assert flagged_row_counts(months) == {"2024-01-01": 2}
    # ("a", "d1") and (empty loan id, "d1") each twice, across months; (empty, "d2") is unique.
    assert duplicate_key_rows(months, LMS) == 4
    assert duplicate_key_rows({}, LMS) == 0
