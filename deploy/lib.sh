# Shared by the deploy scripts (sourced, not run).

# stop_pidfile FILE LABEL: SIGTERM the process in FILE, wait up to 30 s, then SIGKILL; remove FILE.
stop_pidfile() {
  local file=$1 label=$2 pid
  [ -f "$file" ] || { echo "$label: not started by these scripts"; return 0; }
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  fi
  rm -f "$file"
  echo "$label: stopped"
}
