"""The Spark session started ahead of a run (cycle.py) is the one the pyspark resource hands out."""

from pyspark.sql import SparkSession

from loan_pipeline.resources import build_spark_resource
from loan_pipeline.spark_jvm import prestart_session
from loan_pipeline.settings import load_settings


def test_prestarted_session_is_the_resources_session(spark):
    settings = load_settings()
    thread = prestart_session(settings)
    session = build_spark_resource(settings).spark_session
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert session is SparkSession._instantiatedSession is spark
    # One JVM, configured as the resource configures it.
    assert session.conf.get("spark.sql.shuffle.partitions") == settings.spark_conf["spark.sql.shuffle.partitions"]
    assert session.range(5).count() == 5


STOP_AND_RESTART = """
import os
from pyspark import SparkContext
from loan_pipeline.resources import build_spark_resource, stop_spark_jvm
from loan_pipeline.spark_jvm import prestart_session
from loan_pipeline.settings import load_settings
settings = load_settings()
prestart_session(settings).join()
assert build_spark_resource(settings).spark_session.range(3).count() == 3
pid = SparkContext._gateway.proc.pid
stopped = stop_spark_jvm()
print(stopped, os.path.exists(f"/proc/{pid}"), build_spark_resource(settings).spark_session.range(4).count(),
      SparkContext._gateway.proc.pid != pid, stop_spark_jvm(), stop_spark_jvm())
"""


def test_stop_spark_jvm_ends_the_jvm_and_a_later_session_starts_a_new_one():
    """In its own process: the test session's shared JVM must keep running."""
    import subprocess
    import sys

    from loan_pipeline.settings import PROJECT_ROOT

    done = subprocess.run([sys.executable, "-c", STOP_AND_RESTART], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # stopped, old JVM still there, rows from the new session, new JVM, stopped again, nothing left to stop
    assert done.stdout.split()[-6:] == ["True", "False", "4", "True", "True", "False"]
