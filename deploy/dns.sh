#!/usr/bin/env bash
# An authoritative DNS server (NSD) on loopback, serving test zones with CAA records.
#   deploy/dns.sh start DIR PORT [ZONE_SRC_DIR]   install nsd when missing, write DIR/nsd.conf,
#                                                 copy ZONE_SRC_DIR/*.zone into DIR (zone name = file
#                                                 name without .zone), start on 127.0.0.1:PORT UDP+TCP
#   deploy/dns.sh stop DIR                        SIGTERM and wait
#   deploy/dns.sh reload DIR                      SIGHUP: NSD re-reads changed zone files
# ZONE_SRC_DIR defaults to caa-audit-service/src/test/resources/zones.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  echo "usage: $0 start DIR PORT [ZONE_SRC_DIR] | stop DIR | reload DIR" >&2
  exit 2
}

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }

running_pid() {
  local pidfile="$1/nsd.pid"
  [ -s "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

install_nsd() {
  command -v nsd >/dev/null && command -v dig >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "dns: nsd or dig is missing and installing them needs root" >&2
    return 1
  fi
  echo "dns: installing nsd and dnsutils with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nsd dnsutils >/dev/null
}

answers() {
  dig @127.0.0.1 -p "$1" +time=1 +tries=1 SOA "$2" >/dev/null 2>&1
}

start() {
  [ $# -ge 2 ] || usage
  local dir port src
  dir=$(abs_dir "$1")
  port="$2"
  src="${3:-$here/../caa-audit-service/src/test/resources/zones}"
  [ -d "$src" ] || { echo "dns: no zone directory $src" >&2; exit 1; }
  src=$(cd "$src" && pwd)
  install_nsd

  if pid=$(running_pid "$dir"); then
    echo "dns: nsd already running in $dir (pid $pid)" >&2
    exit 1
  fi

  local zones=() f
  for f in "$src"/*.zone; do
    [ -e "$f" ] || continue
    cp "$f" "$dir/"
    zones+=("$(basename "$f" .zone)")
  done
  [ ${#zones[@]} -gt 0 ] || { echo "dns: no *.zone files in $src" >&2; exit 1; }

  {
    cat <<EOF
server:
    ip-address: 127.0.0.1
    port: $port
    do-ip6: no
    server-count: 1
    # stay the current user, no chroot, no nsd.db: zones are read from the text files
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$dir"
    zonelistfile: "zone.list"
    xfrdfile: ""
    xfrdir: "."
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    # Debian's build rate-limits at 200 qps per /24 otherwise
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
# Debian enables the control port (127.0.0.1:8952): a second NSD on the machine could not start
remote-control:
    control-enable: no
EOF
    for z in "${zones[@]}"; do
      printf 'zone:\n    name: %s\n    zonefile: %s.zone\n' "$z" "$z"
    done
  } >"$dir/nsd.conf"

  : >"$dir/nsd.log"
  nsd-checkconf "$dir/nsd.conf"
  # forks into the background; the main pid goes to nsd.pid
  if ! nsd -c "$dir/nsd.conf"; then
    echo "dns: nsd failed to start; log tail:" >&2
    tail -n 20 "$dir/nsd.log" >&2
    exit 1
  fi
  local probe="${zones[0]}" i
  for i in $(seq 50); do
    if answers "$port" "$probe"; then
      echo "dns: nsd serving ${zones[*]} on 127.0.0.1:$port (dir $dir)"
      return 0
    fi
    sleep 0.1
  done
  echo "dns: nsd did not answer on 127.0.0.1:$port; log tail:" >&2
  tail -n 20 "$dir/nsd.log" >&2
  stop "$dir" || true
  exit 1
}

stop() {
  [ $# -ge 1 ] || usage
  local dir pid i
  dir=$(abs_dir "$1")
  pid=$(running_pid "$dir") || { echo "dns: not running in $dir"; return 0; }
  kill "$pid"
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { echo "dns: stopped"; return 0; }
    sleep 0.1
  done
  echo "dns: nsd (pid $pid) did not stop within 10 s" >&2
  return 1
}

reload() {
  [ $# -ge 1 ] || usage
  local dir pid
  dir=$(abs_dir "$1")
  pid=$(running_pid "$dir") || { echo "dns: not running in $dir" >&2; exit 1; }
  kill -HUP "$pid"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  reload) reload "$@" ;;
  *) usage ;;
esac
