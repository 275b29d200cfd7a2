"""The Spark session started ahead of a run (cycle.py) is the one the pyspark resource hands out."""

from pyspark.sql import SparkSession

from loan_pipeline.resources import build_spark_resource, prestart_spark_session
from loan_pipeline.settings import load_settings


def test_prestarted_session_is_the_resources_session(spark):
    settings = load_settings()
    thread = prestart_spark_session(settings)
    session = build_spark_resource(settings).spark_session
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert session is SparkSession._instantiatedSession is spark
    # One JVM, configured as the resource configures it.
    assert session.conf.get("spark.sql.shuffle.partitions") == settings.spark_conf["spark.sql.shuffle.partitions"]
    assert session.range(5).count() == 5
