#!/bin/sh
# init-secrets.sh [DIR]: on the stack's first start, generates its secrets into DIR (default /secrets, a
# volume the other services mount read-only): pg_password (PostgreSQL's password) and spark_secret (Spark's
# RPC authentication). Existing secrets are kept, so a restart does not lock PostgreSQL out.
set -eu
dir="${1:-/secrets}"
umask 077
for name in pg_password spark_secret; do
  if [ ! -s "$dir/$name" ]; then
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
    echo "generated $dir/$name"
  fi
done
# PostgreSQL's entrypoint reads its password file as root before it drops to user postgres; Spark runs as this user.
chmod 0400 "$dir/pg_password" "$dir/spark_secret"
