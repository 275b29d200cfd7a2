"""The Spark session's JVM options: the class-data archive is used when recorded, and only then."""

import dataclasses

from loan_pipeline.settings import DEFAULT_SPARK_CONF, load_settings
from loan_pipeline.spark_jvm import DRIVER_JAVA_OPTIONS, class_archive_path, spark_config


def _settings(tmp_path, **changes):
    return dataclasses.replace(load_settings({}), jvm_dir=tmp_path / "jvm", **changes)


def test_without_an_archive_the_driver_gets_only_the_configured_options(tmp_path):
    config = spark_config(_settings(tmp_path))
    assert config[DRIVER_JAVA_OPTIONS] == DEFAULT_SPARK_CONF[DRIVER_JAVA_OPTIONS]
    assert config["spark.master"] == "local[*]"


def test_a_recorded_archive_is_added_to_the_configured_options(tmp_path):
    settings = _settings(tmp_path)
    archive = class_archive_path(settings)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"archive")
    options = spark_config(settings)[DRIVER_JAVA_OPTIONS].split()
    assert options == [*DEFAULT_SPARK_CONF[DRIVER_JAVA_OPTIONS].split(), f"-XX:SharedArchiveFile={archive}"]


def test_a_cluster_driver_never_gets_this_machines_archive(tmp_path):
    settings = _settings(tmp_path, spark_master="spark://spark-master:7077")
    class_archive_path(settings).parent.mkdir(parents=True)
    class_archive_path(settings).write_bytes(b"archive")
    assert "SharedArchiveFile" not in spark_config(settings)[DRIVER_JAVA_OPTIONS]


def test_the_jvm_folder_is_configurable(tmp_path):
    settings = load_settings({"LOAN_PIPELINE_JVM_DIR": str(tmp_path / "elsewhere")})
    assert class_archive_path(settings).parent == tmp_path / "elsewhere"
