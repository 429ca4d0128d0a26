#!/usr/bin/env bash
# README's run command: builds what it needs and starts the whole pipeline on this machine.
#   deploy/run.sh [--offline] [--fresh] [--no-build]   start Kafka, PostgreSQL, a mail catcher and the four services
#   deploy/run.sh stop                       stop everything this script started
# --offline points the fetcher and dedup at the local crt.sh stand-in (deploy/crtsh-standin) and the
# auditor at NSD serving deploy/dns-zones, so the pipeline runs with no network at all.
# State persists in the database "ctwatch" across runs (a second run mails nothing it already
# mailed); --fresh drops and recreates it first.
# Environment: CTWATCH_WATCHLIST (comma-separated domains), CTWATCH_MAIL_TO (recipient),
# CTWATCH_DB_PASSWORD, SMTP via QUARKUS_MAILER_* (default: the local mail catcher on 3025).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir="${CTWATCH_RUN_DIR:-$root/.run}"
export CTWATCH_RUN_DIR="$run_dir"
mkdir -p "$run_dir/logs"
services=(fetcher-service dedup-service caa-audit-service notifier-service)
standin_port=8089
dns_port=5353
greenmail_version=2.1.13

# shellcheck source=lib.sh
. deploy/lib.sh
stop_pid() { stop_pidfile "$run_dir/$1.pid" "$1"; }

if [ "${1:-}" = stop ]; then
  for s in "${services[@]}" crtsh-standin mail-catcher; do stop_pid "$s"; done
  [ -f "$run_dir/dns/nsd.pid" ] && deploy/dns.sh stop "$run_dir/dns" || true
  deploy/kafka.sh stop
  exit 0
fi

offline=
build=1
fresh=
for arg in "$@"; do
  case "$arg" in
    --offline) offline=1 ;;
    --fresh) fresh=--recreate ;;
    --no-build) build= ;;
    *) echo "usage: $0 [--offline] [--fresh] [--no-build] | stop" >&2; exit 2 ;;
  esac
done

if [ -n "$build" ]; then
  echo "run: building (mvn package, tests skipped: deploy/test.sh runs them)"
  mvn -B -q -ntp package -DskipTests
fi

deploy/postgres.sh $fresh ctwatch
deploy/kafka.sh start

wait_http() { # url, name
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.5
  done
  echo "run: $2 did not answer at $1; see $run_dir/logs/$2.log" >&2
  return 1
}

start_bg() { # name, command...
  local name=$1; shift
  if [ -f "$run_dir/$name.pid" ] && kill -0 "$(cat "$run_dir/$name.pid")" 2>/dev/null; then
    echo "run: $name already runs"
    return
  fi
  nohup "$@" >"$run_dir/logs/$name.log" 2>&1 &
  echo $! >"$run_dir/$name.pid"
}

# mail catcher: GreenMail, a real SMTP server, with a REST API to read what arrived
if [ -z "${QUARKUS_MAILER_HOST:-}" ]; then
  jar="$run_dir/greenmail-standalone-$greenmail_version.jar"
  [ -f "$jar" ] || mvn -q -B -ntp dependency:copy -Dartifact="com.icegreen:greenmail-standalone:$greenmail_version" \
    -DoutputDirectory="$run_dir" -Dmdep.overWriteIfNewer=true
  start_bg mail-catcher java -Dgreenmail.setup.test.smtp -Dgreenmail.hostname=127.0.0.1 -Dgreenmail.auth.disabled \
    -Dgreenmail.api.hostname=127.0.0.1 -Dgreenmail.api.port=18181 -jar "$jar"
  wait_http http://127.0.0.1:18181/api/service/readiness mail-catcher
  export QUARKUS_MAILER_HOST=127.0.0.1 QUARKUS_MAILER_PORT=3025 QUARKUS_MAILER_START_TLS=DISABLED
fi

if [ -n "$offline" ]; then
  start_bg crtsh-standin java -cp e2e/target/classes dev.ctwatch.e2e.CrtShStandIn "$standin_port" deploy/crtsh-standin
  wait_http "http://127.0.0.1:$standin_port/" crtsh-standin
  export QUARKUS_REST_CLIENT_CRTSH_URL="http://127.0.0.1:$standin_port"
  deploy/dns.sh start "$run_dir/dns" "$dns_port" deploy/dns-zones
  export CAA_AUDIT_DNS_SERVERS="127.0.0.1:$dns_port"
  # first polls are spread over one interval; a short one for the local stand-in shows data soon
  export FETCHER_POLL_INTERVAL="${FETCHER_POLL_INTERVAL:-PT1M}"
fi

export QUARKUS_DATASOURCE_PASSWORD="${CTWATCH_DB_PASSWORD:-ctwatch}"
export NOTIFIER_MAIL_TO="${CTWATCH_MAIL_TO:-secops@ctwatch.test}"
# the first poll of each entry is its backfill, mailed as one digest per entry: soon, for a demo
export NOTIFIER_BACKFILL_WINDOW="${NOTIFIER_BACKFILL_WINDOW:-PT10S}"
watchlist="${CTWATCH_WATCHLIST:-github.com,eesp.ch,certificate.transparency.dev,cryptography.io}"
fetcher_opts=()
i=0
IFS=',' read -ra domains <<<"$watchlist"
for d in "${domains[@]}"; do
  fetcher_opts+=("-Dfetcher.watchlist[$i].domain=$d")
  i=$((i + 1))
done

port=8081
for s in "${services[@]}"; do
  opts=()
  [ "$s" != fetcher-service ] || opts=("${fetcher_opts[@]}")
  start_bg "$s" java -Xmx256m "${opts[@]}" -jar "$s/target/quarkus-app/quarkus-run.jar"
  wait_http "http://127.0.0.1:$port/q/health/live" "$s"
  echo "run: $s up on http://127.0.0.1:$port (health /q/health, metrics /q/metrics)"
  port=$((port + 1))
done

echo
echo "ctwatch runs. Watchlist: $watchlist"
echo "  watchlist and polls:  curl -s http://127.0.0.1:8081/api/watchlist"
[ "${QUARKUS_MAILER_HOST}" != 127.0.0.1 ] || \
  echo "  mail that arrived:    curl -s http://127.0.0.1:18181/api/user/$NOTIFIER_MAIL_TO/messages/INBOX"
echo "  logs:                 $run_dir/logs/"
echo "  stop:                 deploy/run.sh stop"
