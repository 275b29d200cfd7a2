"""Bronze: the raw rows of an extract whose snapshot_date falls in the requested months, as text.

Rules applied here (and nowhere else):
- The file must exist, be UTF-8, and its header must equal the source contract (same names, same order).
  Otherwise DataContractError names the file and the missing / unexpected columns.
- Every value stays text; typing is silver's job. Lineage travels with each row: source file, its
  sha256, the 1-based data row number (header excluded) and the ingestion time.
- A row that does not have the contract's number of fields (a truncated last line, a stray comma) or
  whose snapshot_date does not parse with the configured format cannot be placed in a month: the
  whole file is refused, naming file, row, column and value, rather than dropping the row.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import accumulate
from pathlib import Path

import pandas as pd

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from loan_pipeline.sources.schemas import SourceContract
from loan_pipeline.transforms.errors import DataContractError
from loan_pipeline.transforms.spark_lake import month_of, parse_date

CORRUPT = "_corrupt_record"
LINEAGE_COLUMNS = ("_source_file", "_source_sha256", "_source_row", "_ingested_at")
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class RawFile:
    path: Path
    sha256: str


def inspect_raw_file(data_dir: Path, contract: SourceContract) -> RawFile:
    """Check existence, encoding and header of a raw extract; return its content hash."""
    path = data_dir / contract.file_name
    if not path.is_file():
        raise DataContractError(f"{contract.name}: raw file {path} does not exist (expected {contract.file_name} in {data_dir})")
    content = path.read_bytes()
    _check_utf8(path, content)
    header_line = content.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = next(csv.reader(io.StringIO(header_line)), [])
    expected = list(contract.columns)
    if header != expected:
        missing = [c for c in expected if c not in header]
        unexpected = [c for c in header if c not in expected]
        detail = f"missing columns {missing}, unexpected columns {unexpected}" if (missing or unexpected) else "columns out of order"
        raise DataContractError(f"{path}: header does not match the {contract.name} contract: {detail}; header is {header}")
    return RawFile(path=path, sha256=hashlib.sha256(content).hexdigest())


def _check_utf8(path: Path, content: bytes) -> None:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = content.rfind(b"\n", 0, exc.start) + 1
        line_end = content.find(b"\n", exc.start)
        line = content[line_start : line_end if line_end >= 0 else len(content)]
        data_row = content.count(b"\n", 0, exc.start)  # header is row 0
        header = next(csv.reader(io.StringIO(content.split(b"\n", 1)[0].decode("utf-8", "replace"))))
        column_index = line[: exc.start - line_start].count(b",")
        column = header[column_index] if column_index < len(header) else f"field {column_index + 1}"
        raise DataContractError(
            f"{path}: not valid UTF-8 at data row {data_row}, column {column}: bytes {content[exc.start:exc.end]!r} in {line[:120]!r}"
        ) from exc


def read_raw(spark: SparkSession, raw: RawFile, contract: SourceContract) -> DataFrame:
    """All columns as text plus lineage, `_source_row` being the 1-based data row number.

    Spark reads a large file as several input splits in parallel, and a row's position is known only
    within its split; so a cheap first pass counts the rows of each split (no field is parsed), and a
    row's number is the rows of the splits before it plus its position in its own split."""
    schema = T.StructType([T.StructField(c, T.StringType()) for c in (*contract.columns, CORRUPT)])
    df = spark.read.csv(
        str(raw.path), header=True, schema=schema, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT,
        encoding="UTF-8", enforceSchema=True,
    )
    return df.select(
        *contract.columns,
        CORRUPT,
        F.lit(raw.path.name).alias("_source_file"),
        F.lit(raw.sha256).alias("_source_sha256"),
        _row_number(df, raw).alias("_source_row"),
        F.lit(datetime.now(timezone.utc).isoformat(timespec="seconds")).alias("_ingested_at"),
    )


# monotonically_increasing_id() holds the position within the partition in its lower 33 bits
# (documented); a one-file read has one split per partition.
_POSITION_BITS = (1 << 33) - 1


def _row_number(df: DataFrame, raw: RawFile):
    split_start = F.input_file_block_start()
    counts = sorted((r["start"], r["rows"]) for r in df.groupBy(split_start.alias("start")).agg(F.count(F.lit(1)).alias("rows")).collect())
    if not counts:  # a file with a header and no rows
        return F.lit(None).cast("long")
    rows_before = {start: before for (start, _), before in zip(counts, accumulate((n for _, n in counts), initial=0))}
    offsets = F.create_map(*[F.lit(x) for pair in rows_before.items() for x in pair])
    unknown = F.raise_error(F.concat(F.lit(f"{raw.path}: input split at byte "), split_start.cast("string"), F.lit(" was not counted")))
    return F.coalesce(F.try_element_at(offsets, split_start), unknown.cast("long")) + F.monotonically_increasing_id().bitwiseAND(_POSITION_BITS) + 1


def with_month(df: DataFrame, contract: SourceContract, date_format: str) -> DataFrame:
    return df.withColumn("month", month_of(parse_date(contract.date_column, date_format)))


INVALID_MONTH = "__invalid__"


def with_placement(df: DataFrame) -> DataFrame:
    """Rows that are malformed or undated get the month INVALID_MONTH so one pass can both stage
    the valid rows and find the bad ones."""
    bad = F.col(CORRUPT).isNotNull() | F.col("month").isNull()
    return df.withColumn("month", F.when(bad, F.lit(INVALID_MONTH)).otherwise(F.col("month")))


class MonthCoverage:
    """The first and last month of a whole file, observed while only some months of it are written."""

    def __init__(self) -> None:
        self.observation = Observation("month_coverage")

    def describe(self) -> str:
        seen = self.observation.get
        return f"{seen['first']} .. {seen['last']}" if seen.get("first") else "none"


def rows_to_stage(rows: DataFrame, months: list[str], coverage: MonthCoverage) -> DataFrame:
    """The rows of the requested months plus every row that has no month (so bad rows anywhere in the
    file refuse it); the file's month range is observed on the way, without another pass."""
    valid_month = F.when(F.col("month") != INVALID_MONTH, F.col("month"))
    observed = rows.observe(coverage.observation, F.min(valid_month).alias("first"), F.max(valid_month).alias("last"))
    return observed.filter(F.col("month").isin([*months, INVALID_MONTH]))


def describe_invalid_rows(invalid: pd.DataFrame, raw: RawFile, contract: SourceContract, date_format: str) -> str:
    """The error message for rows that cannot be placed in a month (file, row, column, value)."""
    lines = []
    for _, r in invalid.sort_values("_source_row").head(MAX_EXAMPLES).iterrows():
        if r[CORRUPT] is not None and r[CORRUPT] == r[CORRUPT]:
            lines.append(f"row {r['_source_row']}: malformed record (expected {len(contract.columns)} fields): {r[CORRUPT]!r}")
        else:
            lines.append(f"row {r['_source_row']}: column {contract.date_column} = {r[contract.date_column]!r}")
    return (
        f"{raw.path}: {len(invalid)} row(s) cannot be placed in a month — malformed, or {contract.date_column} "
        f"not in the configured format {date_format!r}. Examples: " + "; ".join(lines)
    )


def staged_rows(df: DataFrame, contract: SourceContract) -> DataFrame:
    """Every row of the file with its month (or INVALID_MONTH), values as text, lineage kept."""
    return with_placement(df).select(*contract.columns, CORRUPT, *LINEAGE_COLUMNS, "month")


def bronze_schema(contract: SourceContract) -> dict[str, str]:
    """The Arrow schema bronze writes: every contract column as text, plus lineage."""
    return {
        **{c: "string" for c in (*contract.columns, CORRUPT)},
        "_source_file": "string", "_source_sha256": "string", "_source_row": "int64", "_ingested_at": "string",
    }
