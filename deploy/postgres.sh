#!/usr/bin/env bash
# PostgreSQL at 127.0.0.1:5432 for ctwatch: installs and starts the server where it is absent,
# then makes sure the application role and databases exist (idempotent).
#   deploy/postgres.sh [--recreate] [database ...]   default databases: ctwatch ctwatch_test
#   --recreate drops the named databases first (the test run starts from an empty schema).
#   deploy/postgres.sh --drop database ...               drops them and stops there
# Role and password: CTWATCH_DB_USER / CTWATCH_DB_PASSWORD (default ctwatch / ctwatch, local use only).
set -euo pipefail
user="${CTWATCH_DB_USER:-ctwatch}"
password="${CTWATCH_DB_PASSWORD:-ctwatch}"
recreate=
drop_only=
case "${1:-}" in
  --recreate) recreate=1; shift ;;
  --drop) recreate=1; drop_only=1; shift ;;
esac
databases=("$@")
[ ${#databases[@]} -gt 0 ] || databases=(ctwatch ctwatch_test)

listening() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! listening; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "postgres: installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  if [ ! -d "/etc/postgresql/$version/main" ]; then
    pg_createcluster "$version" main >/dev/null
  fi
  echo "postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 40); do listening && break; sleep 0.25; done
  listening || { echo "postgres: not listening on 127.0.0.1:5432" >&2; exit 1; }
fi

# Admin work as the postgres superuser: peer auth over the socket, else trust over TCP.
admin_psql() {
  if command -v runuser >/dev/null && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"
  else
    psql -w -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
  fi
}

if [ "$(admin_psql -c "select 1 from pg_roles where rolname = '$user'")" != "1" ]; then
  admin_psql -c "create role \"$user\" login createdb password '$password'"
fi
for db in "${databases[@]}"; do
  if [ -n "$recreate" ]; then
    admin_psql -c "drop database if exists \"$db\" with (force)"
    [ -z "$drop_only" ] || continue
  fi
  if [ "$(admin_psql -c "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    admin_psql -c "create database \"$db\" owner \"$user\""
    echo "postgres: created database $db"
  fi
done
[ -n "$drop_only" ] || echo "postgres: ready at 127.0.0.1:5432 (role $user; databases ${databases[*]})"
