"""Resources: where the data and outputs live, and a Spark session built only when first used."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from loan_pipeline.settings import ENV_CC_DATA_DIR, ENV_DATA_DIR, ENV_DATE_FORMAT, ENV_HOME, Settings, load_settings
from loan_pipeline.transforms.model_store import ModelStore


class LoanPipelineSettings(dg.ConfigurableResource):
    """Where the raw extracts are, where outputs go, the raw files' date format. `settings_resource` sets
    each field from its LOAN_PIPELINE_* variable (dg.EnvVar) when that is set as the definitions load; an
    empty field takes its variable when the run starts (a caller that set it later), else the default."""

    data_dir: str = ""
    cc_data_dir: str = ""
    home: str = ""
    date_format: str = ""

    def get(self) -> Settings:
        base = load_settings()  # an empty field: its variable when the run starts, else the default
        overrides = {
            "data_dir": Path(self.data_dir).resolve() if self.data_dir else None,
            "cc_data_dir": Path(self.cc_data_dir).resolve() if self.cc_data_dir else None,
            "home": Path(self.home).resolve() if self.home else None,
            "date_format": self.date_format or None,
        }
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def spark_config(settings: Settings, local_session: bool = False) -> dict[str, str]:
    """The Spark settings of a run's session: a client of Spark's Connect server when one is configured
    (the server has the driver's settings, given when it started: spark_connect.py), else a driver of
    its own on the configured master. `local_session` asks for the driver's settings regardless."""
    if settings.spark_remote and not local_session:
        return {"spark.remote": settings.spark_remote}
    return {"spark.master": settings.spark_master, "spark.app.name": "loan_pipeline", **settings.spark_conf}


def local_spark_env(settings: Settings) -> dict[str, str]:
    """A local driver binds to loopback (no hostname warnings, nothing on a public interface); a cluster's
    executors must reach the driver, so there Spark picks the host's address (or SPARK_LOCAL_IP, if set)."""
    return {"SPARK_LOCAL_IP": "127.0.0.1"} if settings.spark_master.startswith("local") else {}


def build_spark_resource(settings: Settings) -> LazyPySparkResource:
    """dagster-pyspark's lazy resource: the session (and its JVM) starts when a step first asks for it,
    so steps without Spark never pay for it."""
    for name, value in local_spark_env(settings).items():
        os.environ.setdefault(name, value)
    return LazyPySparkResource(spark_config=spark_config(settings))


class ModelStoreResource(dg.ConfigurableResource):
    """The model registry and bundles (transforms/model_store.py) under the outputs' home: `home` is the
    same setting as LoanPipelineSettings.home (LOAN_PIPELINE_HOME; empty: the default)."""

    home: str = ""

    def get(self) -> ModelStore:
        return ModelStore(LoanPipelineSettings(home=self.home).get().model_store)


# Each field of LoanPipelineSettings and the variable it comes from.
SETTINGS_FROM_ENV = {"data_dir": ENV_DATA_DIR, "cc_data_dir": ENV_CC_DATA_DIR, "home": ENV_HOME, "date_format": ENV_DATE_FORMAT}


def settings_resource(env: Mapping[str, str] | None = None) -> LoanPipelineSettings:
    """The settings resource with every variable that is set as a dg.EnvVar (the run reads it when it
    starts, and the UI shows where it came from); unset ones keep the defaults."""
    env = os.environ if env is None else env
    return LoanPipelineSettings(**{field: dg.EnvVar(name) for field, name in SETTINGS_FROM_ENV.items() if env.get(name)})


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    """The resources of definitions.py. Spark's master, settings and Connect URL, like the partition range,
    are read from the environment when the definitions load (settings.load_settings)."""
    settings = settings or load_settings()
    pipeline_settings = settings_resource()
    return {
        "pipeline_settings": pipeline_settings,
        "model_store": ModelStoreResource(home=pipeline_settings.home),
        "pyspark": build_spark_resource(settings),
    }
