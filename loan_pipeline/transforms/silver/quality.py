"""What the silver checks measure on the written months: data-quality flag counts, rows sharing a key,
and the Arrow schema silver must have written.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from loan_pipeline.sources.schemas import ATTRIBUTES, LMS, SourceContract

# The statistics read the written silver months as Arrow tables: the flag lists are counted by
# Arrow's compute kernels, not turned into one Python object per row (for the whole CS611 clickstream,
# pandas took ~0.8 s of the step's Python time for it).


def flag_counts(months: dict[str, pa.Table]) -> dict[str, dict[str, int]]:
    """{month: {flag: rows}} for months (tables holding `dq_flags`) that have any flag."""
    counts: dict[str, dict[str, int]] = {}
    for month, table in months.items():
        for entry in pc.value_counts(pc.drop_null(pc.list_flatten(table["dq_flags"]))).to_pylist():
            counts.setdefault(month, {})[entry["values"]] = int(entry["counts"])
    return {m: dict(sorted(flags.items())) for m, flags in counts.items()}


def flagged_row_counts(months: dict[str, pa.Table]) -> dict[str, int]:
    """{month: rows with any flag} for months that have any."""
    counts = {m: int(pc.sum(pc.greater(pc.list_value_length(t["dq_flags"]), 0)).as_py() or 0) for m, t in months.items()}
    return {m: n for m, n in counts.items() if n}


def duplicate_key_rows(months: dict[str, pa.Table], contract: SourceContract) -> int:
    """Rows sharing a key with another row, across the months (0 after classify's de-duplication; the
    check proves it). Null keys compare equal, as pandas' duplicated did."""
    keys = list(contract.key)
    tables = [t.select(keys) for t in months.values()]
    if not tables:
        return 0
    groups = pa.concat_tables(tables).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    sizes = groups["count_all"]
    return int(pc.sum(pc.if_else(pc.greater(sizes, 1), sizes, 0)).as_py() or 0)


ARROW_TYPES = {"string": "string", "int": "int32", "double": "double", "date": "date32[day]"}
LMS_DERIVED = {"mob": "int32", "installments_missed": "int32", "dpd": "int32"}


def silver_schema(contract: SourceContract) -> dict[str, str]:
    """The Arrow schema silver writes for a source (the schema-contract check compares against it)."""
    schema = {c: ARROW_TYPES[t] for c, t in contract.silver_types.items()}
    if contract is ATTRIBUTES:
        schema["ssn_valid"] = "bool"
    schema.update({"dq_flags": "list<element: string>", "_source_file": "string", "_source_row": "int64"})
    if contract is LMS:
        schema.update(LMS_DERIVED)
    return schema
