#!/bin/sh
# spark-auth.sh COMMAND...: turns on Spark's RPC authentication (and encryption) with the stack's generated
# secret, then runs COMMAND. Master, worker and driver read $SPARK_HOME/conf/spark-defaults.conf; the worker
# hands the secret to its executors. Refuses to start without the secret (written by init-secrets.sh).
set -eu
secret_file="${SPARK_AUTH_SECRET_FILE:-/secrets/spark_secret}"
if [ ! -s "$secret_file" ]; then
  echo "eventproc: $secret_file is missing or empty: start the stack's secrets-init service first." >&2
  exit 1
fi
conf="${SPARK_CONF_DIR:-/opt/spark/conf}/spark-defaults.conf"
umask 077
{
  echo "spark.authenticate true"
  echo "spark.authenticate.secret $(cat "$secret_file")"
  echo "spark.network.crypto.enabled true"
} > "$conf"
exec "$@"
