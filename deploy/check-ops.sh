#!/usr/bin/env bash
# Checks the operations files: alert rules (promtool check + unit tests), the Prometheus config of
# docker-compose, the PromQL of the Grafana dashboard, the kustomize overlays, and (OpsFilesTest
# in e2e) that the PrometheusRule equals deploy/prometheus/rules.yml, the dashboard's structure and
# the compose file.
#   deploy/check-ops.sh [--no-java]   --no-java skips the Maven test (e.g. when the caller runs it)
# Installs Debian's "prometheus" package (promtool) when promtool is missing and we are root.
# Exit status: non-zero when any check failed; every failure is listed at the end.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_java=1
[ "${1:-}" = --no-java ] && run_java=

failures=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() { # name, command...
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    echo "check-ops: ok    $name"
  else
    echo "check-ops: FAIL  $name" >&2
    sed 's/^/    /' "$work/out" >&2
    failures+=("$name")
  fi
}

if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "check-ops: installing promtool (Debian package prometheus)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
fi

if command -v promtool >/dev/null; then
  check "promtool check rules deploy/prometheus/rules.yml" promtool check rules deploy/prometheus/rules.yml
  check "promtool test rules deploy/prometheus/rules_test.yml" promtool test rules deploy/prometheus/rules_test.yml
  check "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml

  # the dashboard's PromQL, written as recording rules so promtool parses every expression
  dashboard_rules() {
    python3 - deploy/grafana/dashboards/ctwatch.json >"$work/dashboard-rules.yml" <<'PY' || return 1
import json, sys
dash = json.load(open(sys.argv[1]))
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            if t.get("expr"):
                exprs.append((p.get("title"), t["refId"], t["expr"]))
if not dash.get("panels"):
    sys.exit("dashboard has no panels")
walk(dash["panels"])
print("groups:\n  - name: dashboard\n    rules:")
for i, (title, ref, e) in enumerate(exprs):
    for var in ("$__rate_interval", "$__interval", "$__range"):
        e = e.replace(var, "5m")
    print(f"      # {title} / {ref}")
    print(f"      - record: dashboard:expr{i}")
    print(f"        expr: {json.dumps(e)}")
PY
    promtool check rules "$work/dashboard-rules.yml"
  }
  check "dashboard PromQL (deploy/grafana/dashboards/ctwatch.json)" dashboard_rules
else
  echo "check-ops: FAIL  promtool is missing (apt-get install prometheus, as root)" >&2
  failures+=("promtool missing")
fi

if command -v kubectl >/dev/null; then
  for overlay in dev prod sharded; do
    render() {
      local kinds="ServiceMonitor PrometheusRule Deployment KafkaTopic"
      [ "$1" = sharded ] && kinds="$kinds StatefulSet"   # the sharded fetchers
      kubectl kustomize "k8s/overlays/$1" >"$work/$1.yaml" || return 1
      for kind in $kinds; do
        grep -q "^kind: $kind\$" "$work/$1.yaml" || { echo "no $kind in the rendered overlay"; return 1; }
      done
    }
    check "kubectl kustomize k8s/overlays/$overlay" render "$overlay"
  done
else
  echo "check-ops: skip  kubectl kustomize (no kubectl on PATH)"
fi

if [ -n "$run_java" ]; then
  # PrometheusRule == rules.yml, dashboard structure, docker-compose.yml and prometheus.yml parse
  check "mvn -pl e2e test -Dtest=OpsFilesTest" \
    mvn -B -q -ntp -pl e2e test -Dtest=OpsFilesTest -Dsurefire.failIfNoSpecifiedTests=false
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "check-ops: ${#failures[@]} check(s) failed:" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "check-ops: all checks passed"
