"""The Spark session's JVM options: the class-data archive is used when recorded, and only then."""

import dataclasses

from loan_pipeline.settings import DEFAULT_SPARK_CONF, load_settings
from loan_pipeline.spark_jvm import (
    DRIVER_CLASS_PATH, DRIVER_JAVA_OPTIONS, FILE_SYSTEM, HADOOP_LOCAL_FILE_SYSTEM, LOCAL_FILE_SYSTEM, class_archive_path,
    project_jar, spark_config,
)


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


def _fake_jar(settings):
    jar = project_jar(settings)
    jar.parent.mkdir(parents=True, exist_ok=True)
    jar.write_bytes(b"jar")
    return jar


def test_a_built_local_file_system_replaces_hadoops_and_names_its_own_archive(tmp_path):
    settings = _settings(tmp_path)
    plain_archive = class_archive_path(settings)
    jar = _fake_jar(settings)
    config = spark_config(settings)
    assert config[FILE_SYSTEM] == LOCAL_FILE_SYSTEM
    assert config[DRIVER_CLASS_PATH] == str(jar)
    # the archive holds the jar's classes, so it is recorded (and looked up) per jar
    assert class_archive_path(settings) != plain_archive and jar.stem in class_archive_path(settings).name


def test_a_configured_file_system_or_a_cluster_master_keeps_its_own(tmp_path):
    settings = _settings(tmp_path)
    _fake_jar(settings)
    own = dataclasses.replace(settings, spark_conf={**settings.spark_conf, FILE_SYSTEM: "org.example.Fs"})
    assert spark_config(own)[FILE_SYSTEM] == "org.example.Fs" and DRIVER_CLASS_PATH not in spark_config(own)
    cluster = dataclasses.replace(settings, spark_master="spark://spark-master:7077")
    assert spark_config(cluster)[FILE_SYSTEM] == HADOOP_LOCAL_FILE_SYSTEM and DRIVER_CLASS_PATH not in spark_config(cluster)


# In a fresh JVM: Spark writes through the compiled class, files and folders get the modes Hadoop
# gives them (0644 / 0755 under umask 022), and an explicit mode is applied exactly.
WRITE_THROUGH_LOCAL_FS = """
import dataclasses, os, stat, sys
from pathlib import Path
from pyspark.sql import SparkSession
from loan_pipeline.settings import load_settings
from loan_pipeline.spark_jvm import build_project_jar, spark_config
os.umask(0o022)
tmp = Path(sys.argv[1])
settings = dataclasses.replace(load_settings({}), jvm_dir=tmp / "jvm")
print(build_project_jar(settings) is not None)
builder = SparkSession.builder
for key, value in spark_config(settings).items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
out = tmp / "table"
spark.range(10).selectExpr("id", "cast(id % 2 AS string) AS month").write.partitionBy("month").parquet(str(out))
jvm = spark.sparkContext._jvm
fs = jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI("file:///"), spark.sparkContext._jsc.hadoopConfiguration())
print(fs.getClass().getName())
files = sorted(out.rglob("*.parquet"))
print(len({p.parent.name for p in files}), sorted({oct(stat.S_IMODE(p.stat().st_mode)) for p in files}), oct(stat.S_IMODE((out / "month=0").stat().st_mode)))
fs.setPermission(jvm.org.apache.hadoop.fs.Path(str(files[0])), jvm.org.apache.hadoop.fs.permission.FsPermission(0o640))
sticky = tmp / "sticky"; sticky.mkdir()
fs.setPermission(jvm.org.apache.hadoop.fs.Path(str(sticky)), jvm.org.apache.hadoop.fs.permission.FsPermission(0o1755))
print(oct(stat.S_IMODE(files[0].stat().st_mode)), oct(stat.S_IMODE(sticky.stat().st_mode)))
spark.stop()
"""


def test_spark_writes_through_the_compiled_local_file_system(tmp_path):
    import subprocess
    import sys

    from loan_pipeline.settings import PROJECT_ROOT

    done = subprocess.run([sys.executable, "-c", WRITE_THROUGH_LOCAL_FS, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()[-4:]
    assert lines[0] == "True"  # javac is part of the set-up (scripts/system-deps.sh)
    assert lines[1] == LOCAL_FILE_SYSTEM
    assert lines[2] == "2 ['0o644'] 0o755"
    assert lines[3] == "0o640 0o1755"  # the sticky bit goes through Hadoop's own chmod
