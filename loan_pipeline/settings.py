"""One source of truth for paths, the partition range, the label definition and thresholds.

Every value can be overridden by an environment variable; the defaults run the bundled sample
data on a laptop. Nothing here depends on the current working directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from loan_pipeline.tables import Table

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Environment variable names are part of the user interface (README, .env.example, dagster.yaml).
ENV_DATA_DIR = "LOAN_PIPELINE_DATA_DIR"
ENV_CC_DATA_DIR = "LOAN_PIPELINE_CC_DATA_DIR"
ENV_HOME = "LOAN_PIPELINE_HOME"
ENV_START = "LOAN_PIPELINE_START"
ENV_END = "LOAN_PIPELINE_END"
ENV_SPARK_MASTER = "LOAN_PIPELINE_SPARK_MASTER"
ENV_SPARK_CONF = "LOAN_PIPELINE_SPARK_CONF"
ENV_SPARK_REMOTE = "LOAN_PIPELINE_SPARK_REMOTE"
ENV_DATE_FORMAT = "LOAN_PIPELINE_DATE_FORMAT"
# Tests and benchmarks only, not a pipeline setting (deploy.pipeline_env_vars takes the ENV_* names):
# where the real public data sets are (never copied into the project).
REFERENCE_DATA_VARIABLE = "LOAN_PIPELINE_REFERENCE_DATA"

DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "loans"
DEFAULT_CC_DATA_DIR = PROJECT_ROOT / "data" / "cc_general"
DEFAULT_HOME = PROJECT_ROOT / "var"
DEFAULT_REFERENCE_DATA = PROJECT_ROOT.parent / "shared" / "data"
# The bundled sample (and the real CS611 extract) span these snapshot months.
DEFAULT_START = "2023-01-01"
DEFAULT_END = "2025-11-01"

# Spark settings tuned for a 2-core laptop; LOAN_PIPELINE_SPARK_CONF (JSON) overrides or extends them.
DEFAULT_SPARK_CONF: dict[str, str] = {
    # One task per core: the four sources of a layer already run side by side, and every extra task
    # costs its own start-up and one more Parquet file per month written (measured: 2 beats 4 here).
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # Keep month=YYYY-MM-01 folder values as strings when reading the lake back.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    # Stage progress bars would land in every run's captured logs as carriage-return noise.
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "1g",
    "spark.sql.parquet.compression.codec": "snappy",
    # Hadoop's local file system without its .crc checksum twin per file: each file and folder Hadoop
    # creates gets its permissions from a forked `chmod` (no native Hadoop library here), and the twins
    # doubled those forks. Parquet carries its own checksums; hdfs:// or s3a:// lakes are not affected.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    # List a table's month folders in the driver: a listing job for 35 small folders costs seconds.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # JVM flags for short batch runs on small data: the C1 compiler alone gets Spark's generated code
    # compiled sooner, with the tiered default code cache (C1 alone gets 48 MB, which a long-lived
    # session fills); the throughput collector spends less CPU than G1 with a 1 GB heap. A standing
    # Connect server or a cluster's long jobs may drop the first flag (LOAN_PIPELINE_SPARK_CONF).
    # Spark's log settings (log4j2.properties beside this module): warnings and errors only.
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m -XX:+UseParallelGC "
    f"-Dlog4j2.configurationFile={Path(__file__).with_name('log4j2.properties')}",
}


# Clickstream features use the snapshots of the application month and the months before it.
CLICKSTREAM_WINDOW_MONTHS = 3
# Attributes/financials older than this at application are considered unknown.
PROFILE_LOOKBACK_MONTHS = 24


@dataclass(frozen=True)
class LabelDefinition:
    """Default = days past due >= dpd_threshold at months-on-book mob."""

    dpd_threshold: int = 30
    mob: int = 6

    @property
    def name(self) -> str:
        return f"dpd{self.dpd_threshold}_mob{self.mob}"


@dataclass(frozen=True)
class GovernanceThresholds:
    """A monitoring month breaches when any of these holds (AUC/precision/recall below, PSI at or above)."""

    min_auc: float = 0.70
    max_psi: float = 0.20
    min_precision: float = 0.60
    min_recall: float = 0.50


@dataclass(frozen=True)
class DataQualityThresholds:
    """When a month's data is unusable: asset checks fail above these shares."""

    max_quarantined_share: float = 0.02  # of a month's bronze rows
    max_flagged_share: float = 0.90  # of a month's silver rows carrying at least one flag (warning)
    min_profile_coverage: float = 0.95  # of a month's loans with attributes and financials found
    min_label_rate: float = 0.01
    max_label_rate: float = 0.60


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    cc_data_dir: Path
    home: Path
    start: str
    end: str
    date_format: str = "yyyy-MM-dd"
    spark_master: str = "local[*]"
    # A standing Spark Connect server (sc://host:port, loan_pipeline/spark_connect.py) instead of a Spark
    # JVM per run; empty: each run starts its own session on spark_master.
    spark_remote: str = ""
    spark_conf: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SPARK_CONF))
    label: LabelDefinition = LabelDefinition()
    thresholds: GovernanceThresholds = GovernanceThresholds()
    quality: DataQualityThresholds = DataQualityThresholds()
    clickstream_window_months: int = CLICKSTREAM_WINDOW_MONTHS
    profile_lookback_months: int = PROFILE_LOOKBACK_MONTHS

    @property
    def datamart(self) -> Path:
        return self.home / "datamart"

    @property
    def model_store(self) -> Path:
        return self.home / "model_store"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    def table(self, table: Table) -> Path:
        """Parquet root of one lake table (tables.py): <home>/datamart/<layer>/<name>/month=YYYY-MM-01/."""
        return table.path(self.datamart)


def _env_path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def _spark_remote(env: Mapping[str, str]) -> str:
    url = (env.get(ENV_SPARK_REMOTE) or "").strip()
    if url and not url.startswith("sc://"):
        raise ValueError(f"{ENV_SPARK_REMOTE} must be a Spark Connect URL like sc://127.0.0.1:15002, got {url!r}")
    return url


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    spark_conf = dict(DEFAULT_SPARK_CONF)
    if env.get(ENV_SPARK_CONF):
        try:
            spark_conf.update({str(k): str(v) for k, v in json.loads(env[ENV_SPARK_CONF]).items()})
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"{ENV_SPARK_CONF} must be a JSON object of Spark settings: {exc}") from exc
    return Settings(
        data_dir=_env_path(env, ENV_DATA_DIR, DEFAULT_DATA_DIR),
        cc_data_dir=_env_path(env, ENV_CC_DATA_DIR, DEFAULT_CC_DATA_DIR),
        home=_env_path(env, ENV_HOME, DEFAULT_HOME),
        start=env.get(ENV_START) or DEFAULT_START,
        end=env.get(ENV_END) or DEFAULT_END,
        date_format=env.get(ENV_DATE_FORMAT) or "yyyy-MM-dd",
        spark_master=env.get(ENV_SPARK_MASTER) or "local[*]",
        spark_remote=_spark_remote(env),
        spark_conf=spark_conf,
    )


def reference_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The real public data sets (CS611 loans, CC GENERAL) the tests and benchmarks read."""
    return _env_path(os.environ if env is None else env, REFERENCE_DATA_VARIABLE, DEFAULT_REFERENCE_DATA)
