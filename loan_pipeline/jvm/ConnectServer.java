package loan_pipeline;

import org.apache.spark.sql.SparkSession;

/**
 * A Spark driver that only serves Spark Connect: `python -m loan_pipeline.spark_server` starts it
 * with spark.plugins=org.apache.spark.sql.connect.SparkConnectPlugin, which starts the service.
 *
 * Why not Spark's own SparkConnectServer: it gives every client session a class loader of its own,
 * and Spark caches the code it generates for a query per class loader. Each run (a new session) then
 * generated and compiled its ~130 classes again, and the JVM compiled them to machine code again:
 * about 10 s of CPU per full ingest on 2 cores. Served by this plain application, sessions keep the
 * application's class loader unless a client adds artifacts (jars, files; the pipeline adds none),
 * so later runs reuse the classes, already compiled, of the runs before them.
 */
public final class ConnectServer {
    private ConnectServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        SparkSession.builder().getOrCreate();
        // Serve until the JVM is stopped (SIGTERM, Ctrl-C); Spark's shutdown hook stops the service.
        Thread.currentThread().join();
    }
}
