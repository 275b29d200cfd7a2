"""Resources: where the data and outputs live, and a Spark session built only when first used."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from loan_pipeline.settings import Settings, load_settings
from loan_pipeline.spark_jvm import spark_config, use_loopback


class LoanPipelineSettings(dg.ConfigurableResource):
    """Storage locations; empty values fall back to the environment / defaults in settings.py."""

    data_dir: str = ""
    cc_data_dir: str = ""
    home: str = ""
    date_format: str = ""

    def get(self) -> Settings:
        base = load_settings()
        overrides = {
            "data_dir": Path(self.data_dir).resolve() if self.data_dir else None,
            "cc_data_dir": Path(self.cc_data_dir).resolve() if self.cc_data_dir else None,
            "home": Path(self.home).resolve() if self.home else None,
            "date_format": self.date_format or None,
        }
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def build_spark_resource(settings: Settings) -> LazyPySparkResource:
    use_loopback()
    return LazyPySparkResource(spark_config=spark_config(settings))


def _remote_session():
    """The process's Spark Connect client session, if any (pyspark's connect client is optional: it
    needs the `connect` extras, which only a remote configuration uses)."""
    connect = sys.modules.get("pyspark.sql.connect.session")
    return connect.SparkSession._get_default_session() if connect else None


def spark_session_running() -> bool:
    from pyspark.sql import SparkSession

    return SparkSession._instantiatedSession is not None or _remote_session() is not None


def stop_spark_jvm(timeout: float = 60) -> bool:
    """Stop the process's Spark session and the local JVM behind it (its memory goes back to the
    system: the model steps that follow the ingest in one process do not use Spark). A later
    session starts a new JVM. A client of a Spark Connect server releases its session on the server
    (which keeps running for the next run). Returns whether a session was stopped."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    remote = _remote_session()
    if remote is not None:
        remote.stop()
        return True
    session = SparkSession._instantiatedSession
    if session is None:
        return False
    jvm = getattr(SparkContext._gateway, "proc", None)
    session.stop()
    if jvm is not None:
        SparkContext._gateway.shutdown()
        jvm.stdin.close()  # PySpark's local JVM exits when its stdin closes
        jvm.wait(timeout=timeout)
    SparkContext._gateway = SparkContext._jvm = None
    return True


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    return {"pipeline_settings": LoanPipelineSettings(), "pyspark": build_spark_resource(settings)}
