"""Every table of the lake in one place: its layer and its name, which is also its asset's name.

Where a table lives is `Settings.table(t)`: `<home>/datamart/<layer>/<name>/`. Its format is lake.py's
(Parquet, one `month=YYYY-MM-01` folder per partition, each month replaced atomically); Spark writes
through transforms/spark_lake.py, pandas through lake.write_months_pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loan_pipeline.sources.schemas import SourceContract


@dataclass(frozen=True)
class Table:
    layer: str
    name: str

    def path(self, datamart: Path) -> Path:
        return datamart / self.layer / self.name


def bronze(source: SourceContract) -> Table:
    """One raw extract's rows as text, with lineage."""
    return Table("bronze", f"bronze_{source.name}")


def silver(source: SourceContract) -> Table:
    """One extract typed, cleaned and flagged."""
    return Table("silver", f"silver_{source.name}")


def quarantine(source: SourceContract) -> Table:
    """The rows of one extract that cannot be parsed, with the reasons (written beside its silver table)."""
    return Table("silver", f"quarantine_{source.name}")


GOLD_FEATURES = Table("gold", "gold_features")
GOLD_LABELS = Table("gold", "gold_labels")
CUSTOMER_SEGMENTS = Table("gold", "customer_segments")
PREDICTIONS = Table("predictions", "predictions")
MONITORING = Table("monitoring", "monitoring")
