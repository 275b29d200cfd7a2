"""Start-up cost of the local Spark JVM: the driver's Java options and its class-data archive.

Every run (and every single-run backfill) starts one Spark JVM. On a small machine most of a run's
Spark time is the JVM loading and verifying Spark's ~20,000 classes and compiling them: on the 2-core
reference machine a cold session took ~11 s and the first Parquet write of a table ~10 s. Two JDK
features cut that, neither of which changes what Spark computes:

- A dynamic class-data-sharing archive (JDK 13+, JEP 350) of the classes a real pipeline run loads:
  the JVM maps them ready-parsed instead of loading them from ~280 jars. `python -m
  loan_pipeline.spark_jvm` records it once per machine (./dev and the Docker image do this); when it
  is missing, or recorded by another JDK or another set of jars, the JVM starts without it.
- Hadoop's local file system without a forked `chmod` per file and folder it creates
  (jvm/LocalFileSystem.java; without it Spark uses Hadoop's RawLocalFileSystem, which is correct,
  only slower).
- `-XX:TieredStopAtLevel=1` (settings.SHORT_LIVED_JIT, in DEFAULT_SPARK_CONF): only the fast C1 compiler, so Spark's
  generated code runs compiled sooner. For long jobs on large data, override it with
  LOAN_PIPELINE_SPARK_CONF.

The project's Java classes (jvm/*.java: that file system, and spark_server's ConnectServer) are
compiled here into one jar, once per machine, when a JDK's javac is present.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from loan_pipeline.settings import DEFAULT_SPARK_CONF, Settings, load_settings

DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
DRIVER_MEMORY = "spark.driver.memory"
REMOTE = "spark.remote"


FILE_SYSTEM = "spark.hadoop.fs.file.impl"
DRIVER_CLASS_PATH = "spark.driver.extraClassPath"
HADOOP_LOCAL_FILE_SYSTEM = DEFAULT_SPARK_CONF[FILE_SYSTEM]  # Hadoop's RawLocalFileSystem, the default
LOCAL_FILE_SYSTEM = "loan_pipeline.LocalFileSystem"
JVM_SOURCES = tuple(sorted((Path(__file__).parent / "jvm").glob("*.java")))


def _pyspark_version() -> str:
    from pyspark.version import __version__

    return __version__


@functools.cache
def _sources_digest() -> str:
    # Every session's configuration asks for the jar's name: hash the sources once per process.
    digest = hashlib.sha256(_pyspark_version().encode())
    for source in JVM_SOURCES:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:12]


def project_jar(settings: Settings) -> Path:
    """One jar per source text and pyspark version (it is compiled against pyspark's jars)."""
    return settings.jvm_dir / f"loan-pipeline-jvm-{_sources_digest()}.jar"


def _local(settings: Settings) -> bool:
    return settings.spark_master.startswith("local")


def _local_file_system_config(settings: Settings) -> dict[str, str]:
    """The settings that swap in the fork-free local file system: only for a local master, only when
    its jar has been built, and only where the configuration still names Hadoop's own class."""
    jar = project_jar(settings)
    if not (_local(settings) and jar.is_file() and settings.spark_conf.get(FILE_SYSTEM) == HADOOP_LOCAL_FILE_SYSTEM):
        return {}
    class_path = os.pathsep.join(p for p in (settings.spark_conf.get(DRIVER_CLASS_PATH, ""), str(jar)) if p)
    return {FILE_SYSTEM: LOCAL_FILE_SYSTEM, DRIVER_CLASS_PATH: class_path}


def class_archive_path(settings: Settings) -> Path:
    """One archive per pyspark version and class path: new jars need a new recording."""
    extra = "-" + project_jar(settings).stem if _local_file_system_config(settings) else ""
    return settings.jvm_dir / f"spark-{_pyspark_version()}{extra}-classes.jsa"


def spark_config(settings: Settings) -> dict[str, str]:
    """The Spark settings of a run's session: a client of the standing Spark Connect server when one is
    configured (its own settings are jvm_config's, given when it started), else a session of its own."""
    if settings.spark_remote:
        return {REMOTE: settings.spark_remote}
    return jvm_config(settings)


def jvm_config(settings: Settings) -> dict[str, str]:
    """The settings of a Spark driver JVM started here (a run's own, or the Spark Connect server), with
    the local file system and the class archive added when they have been built (local master only: a
    cluster's driver runs elsewhere)."""
    config = {"spark.master": settings.spark_master, "spark.app.name": "loan_pipeline", **settings.spark_conf}
    config.update(_local_file_system_config(settings))
    archive = class_archive_path(settings)
    if _local(settings) and archive.is_file():
        config[DRIVER_JAVA_OPTIONS] = f"{config.get(DRIVER_JAVA_OPTIONS, '')} -XX:SharedArchiveFile={archive}".strip()
    return config


def use_loopback() -> None:
    """Spark binds to the loopback interface unless told otherwise: no hostname warnings, and nothing
    listens on a public interface (the JVM reads this when it starts)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def session_builder(config: dict[str, str]):
    """A SparkSession builder with `config` applied, as dagster_pyspark's resource builds its session
    (without importing Dagster)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    return builder


def prestart_session(settings: Settings | None = None) -> threading.Thread:
    """Start the Spark session in a background thread, with exactly the configuration the pyspark
    resource uses (resources.build_spark_resource), so that its JVM start (~3 s) overlaps other work:
    the resource then gets this same session (getOrCreate returns it). Importing only pyspark here
    lets a command line start it before its own heavy imports. If starting fails here, the resource's
    own attempt reports the error."""
    builder = session_builder(spark_config(settings or load_settings()))
    use_loopback()

    def start() -> None:
        try:
            builder.getOrCreate()
        except Exception:  # noqa: BLE001 - reported by the step that needs Spark
            pass

    thread = threading.Thread(target=start, name="spark-prestart", daemon=True)
    thread.start()
    return thread


def build_project_jar(settings: Settings | None = None) -> Path | None:
    """Compile jvm/*.java against pyspark's jars into the jar project_jar names; None when no javac
    is found (a Java runtime without the JDK's compiler)."""
    settings = settings or load_settings()
    javac = shutil.which("javac")
    if javac is None:
        return None
    import pyspark

    target = project_jar(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp) / "classes"
        jars = Path(pyspark.__file__).parent / "jars" / "*"
        done = subprocess.run(
            [javac, "-nowarn", "--release", "17", "-cp", str(jars), "-d", str(classes), *map(str, JVM_SOURCES)],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"compiling {', '.join(s.name for s in JVM_SOURCES)} failed:\n{done.stdout}{done.stderr}")
        partial = Path(tmp) / target.name
        with zipfile.ZipFile(partial, "w") as jar:  # a jar is a zip of the class files
            for path in sorted(classes.rglob("*.class")):
                jar.write(path, path.relative_to(classes).as_posix())
        shutil.move(partial, target)
    return target


def _record_workload(settings: Settings) -> None:
    """Run the real bronze -> silver -> gold transforms on a tiny generated loan book, so the archive
    holds the classes a pipeline run uses (CSV, Parquet, windows, joins, aggregates, codegen)."""
    from loan_pipeline.sources.generator import generate_loan_book
    from loan_pipeline.sources.schemas import ATTRIBUTES, CLICKSTREAM, FINANCIALS, LMS, SOURCES
    from loan_pipeline.transforms import bronze, gold
    from loan_pipeline.transforms.silver import classify as silver
    from loan_pipeline.transforms.spark_lake import read_months, session_for_rows, write_months

    spark = session_builder(dict(settings.spark_conf)).master("local[*]").appName("loan_pipeline_class_archive").getOrCreate()
    with tempfile.TemporaryDirectory() as tmp:
        data, lake = Path(tmp) / "data", Path(tmp) / "lake"
        generate_loan_book(data, customers=200, loan_start_months=2)
        months = ["2023-01-01", "2023-02-01"]
        tables = {}
        for i, contract in enumerate(SOURCES.values()):
            raw = bronze.inspect_raw_file(data, contract)
            rows = bronze.staged_rows(bronze.with_month(bronze.read_raw(spark, raw, contract), contract, settings.date_format), contract)
            write_months(rows.filter(rows.month.isin(months)), lake / f"bronze_{contract.name}", months)
            # Silver runs compiled on large inputs and interpreted on small ones: archive both paths' classes.
            silver_spark = spark if i % 2 else session_for_rows(spark, 0)
            classified = silver.classify(read_months(silver_spark, lake / f"bronze_{contract.name}", months), contract, settings.date_format)
            write_months(silver.silver_rows(classified), lake / f"silver_{contract.name}", months)
            write_months(silver.quarantine_rows(classified, contract), lake / f"quarantine_{contract.name}", months)
            tables[contract.name] = read_months(spark, lake / f"silver_{contract.name}", months)
        features = gold.build_features(
            tables[LMS.name], tables[ATTRIBUTES.name], tables[FINANCIALS.name], tables[CLICKSTREAM.name], months,
            settings.clickstream_window_months, settings.profile_lookback_months,
        )
        write_months(features, lake / "gold_features", months)
        write_months(gold.build_labels(tables[LMS.name], months, settings.label), lake / "gold_labels", months)
    # The JVM writes the archive as it exits (that takes a while): stop it and wait.
    from loan_pipeline.resources import stop_spark_jvm

    stop_spark_jvm(timeout=600)


def record_class_archive(settings: Settings | None = None) -> Path:
    """Record the archive in a child process (the JVM writes it when it exits), then move it in place."""
    settings = settings or load_settings()
    target = class_archive_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    options = f"{settings.spark_conf.get(DRIVER_JAVA_OPTIONS, '')} -XX:ArchiveClassesAtExit={partial}".strip()
    conf = {**settings.spark_conf, **_local_file_system_config(settings), DRIVER_JAVA_OPTIONS: options}
    env = {**os.environ, "LOAN_PIPELINE_SPARK_CONF": json.dumps(conf)}
    # The JVM lists every class it cannot archive; that output matters only when recording fails.
    done = subprocess.run([sys.executable, "-m", "loan_pipeline.spark_jvm", "--workload"], env=env, capture_output=True, text=True)
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"recording the class archive {target} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    os.replace(partial, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the project's Java classes (jvm/*.java) and record the Spark JVM's class-data archive for this machine.")
    parser.add_argument("--if-missing", action="store_true", help="build or record only what is missing")
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = load_settings()
    if args.workload:
        _record_workload(settings)
        return
    if not (args.if_missing and project_jar(settings).is_file()):
        jar = build_project_jar(settings)
        print(f"spark_jvm: built {jar}" if jar else "spark_jvm: no javac (a JDK) here; Spark uses Hadoop's local file system, which forks chmod per file, "
              "and the Spark Connect server is Spark's own, which compiles each run's generated code again", flush=True)
    target = class_archive_path(settings)
    if args.if_missing and target.is_file():
        return
    print(f"spark_jvm: recording the Spark class archive {target} (once per machine, about a minute)", flush=True)
    print(f"spark_jvm: wrote {record_class_archive(settings)}")


if __name__ == "__main__":
    main()
