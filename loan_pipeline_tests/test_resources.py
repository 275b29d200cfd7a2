"""The Spark resource: one stock dagster-pyspark resource, configured by the settings."""

import dagster as dg
from pyspark.sql import SparkSession

from loan_pipeline import tables
from loan_pipeline.resources import build_spark_resource, settings_resource, spark_config
from loan_pipeline.settings import DEFAULT_DATA_DIR, DEFAULT_SPARK_CONF, load_settings


def test_a_run_gets_a_local_session_with_the_project_settings(spark):
    settings = load_settings({})
    assert spark_config(settings) == {"spark.master": "local[*]", "spark.app.name": "loan_pipeline", **DEFAULT_SPARK_CONF}
    session = build_spark_resource(settings).spark_session
    # One JVM per process: the resource hands out the process's session, configured as the settings say.
    assert session is SparkSession.getActiveSession() is spark
    assert session.conf.get("spark.sql.shuffle.partitions") == DEFAULT_SPARK_CONF["spark.sql.shuffle.partitions"]
    assert session.range(5).count() == 5


def test_master_conf_and_remote_come_from_the_environment():
    cluster = load_settings({"LOAN_PIPELINE_SPARK_MASTER": "spark://10.0.0.5:7077", "LOAN_PIPELINE_SPARK_CONF": '{"spark.executor.memory": "4g"}'})
    config = spark_config(cluster)
    assert config["spark.master"] == "spark://10.0.0.5:7077" and config["spark.executor.memory"] == "4g"
    assert config["spark.sql.shuffle.partitions"] == DEFAULT_SPARK_CONF["spark.sql.shuffle.partitions"]
    remote = load_settings({"LOAN_PIPELINE_SPARK_REMOTE": "sc://127.0.0.1:15002"})
    # A Connect client sends no driver settings: the server has them (spark_connect.server_command).
    assert spark_config(remote) == {"spark.remote": "sc://127.0.0.1:15002"}
    assert spark_config(remote, local_session=True)["spark.master"] == "local[*]"


def test_settings_come_from_the_environment_as_env_vars_and_default_otherwise(monkeypatch, tmp_path):
    monkeypatch.setenv("LOAN_PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LOAN_PIPELINE_DATA_DIR", raising=False)
    resource = settings_resource()
    assert resource.home == dg.EnvVar("LOAN_PIPELINE_HOME") and resource.data_dir == ""
    with dg.build_resources({"pipeline_settings": resource}) as built:
        settings = built.pipeline_settings.get()
    assert settings.home == tmp_path / "home" and settings.data_dir == DEFAULT_DATA_DIR
    assert settings.table(tables.GOLD_FEATURES) == tmp_path / "home" / "datamart" / "gold" / "gold_features"
