#!/usr/bin/env bash
# README's test command: every test of every module against real Kafka, PostgreSQL, NSD and SMTP.
# Installs what is missing (PostgreSQL and NSD from Debian's packages, Kafka from Maven Central),
# starts a Kafka broker unless one already listens on KAFKA_PORT, and stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "test: '$tool' is required (JDK 17+ and Maven 3.8+)" >&2; exit 1; }
done
if ! command -v nsd >/dev/null || ! command -v dig >/dev/null; then
  echo "test: installing NSD and dig from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends nsd dnsutils >/dev/null
fi

# a fresh database per run: migrations edited during development never meet an old schema,
# and two runs side by side never share one
test_db="ctwatch_test_$$"
deploy/postgres.sh --recreate "$test_db"

started_kafka=
if ! deploy/kafka.sh status; then
  deploy/kafka.sh start
  started_kafka=1
else
  deploy/kafka.sh topics
fi
cleanup() {
  [ -z "$started_kafka" ] || deploy/kafka.sh stop || true
  deploy/postgres.sh --drop "$test_db" >/dev/null || true
}
trap cleanup EXIT

export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${KAFKA_PORT:-9092}"
export QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://127.0.0.1:5432/$test_db"
export QUARKUS_DATASOURCE_USERNAME="${CTWATCH_DB_USER:-ctwatch}"
export QUARKUS_DATASOURCE_PASSWORD="${CTWATCH_DB_PASSWORD:-ctwatch}"

# alert rules (promtool), dashboard PromQL and kustomize renders; their Java checks run in mvn verify
deploy/check-ops.sh --no-java

mvn -B -ntp verify "$@"
