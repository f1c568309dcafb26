#!/usr/bin/env bash
# Runs an eventproc command on the cluster: `submit.sh run --config FILE`, `submit.sh reconcile --config FILE`,
# `submit.sh generate ...`. SPARK_MASTER (default spark://spark-master:7077) and the JVM flags Spark 3.5
# needs on Java 17 are passed to the driver and the executors.
set -euo pipefail
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED \
--add-opens=java.base/sun.util.calendar=ALL-UNNAMED"
if [[ "${1:-}" == "generate" ]]; then
  # The generator needs no cluster: plain Java with Spark's jars for Kafka's client.
  exec java $OPENS -cp "/opt/eventproc/eventproc-spark.jar:/opt/spark/jars/*" dev.eventproc.cli.Main "$@"
fi
exec spark-submit \
  --master "${SPARK_MASTER:-spark://spark-master:7077}" \
  --deploy-mode client \
  --class dev.eventproc.cli.Main \
  --conf "spark.driver.extraJavaOptions=$OPENS" \
  --conf "spark.executor.extraJavaOptions=$OPENS" \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  /opt/eventproc/eventproc-spark.jar "$@"
