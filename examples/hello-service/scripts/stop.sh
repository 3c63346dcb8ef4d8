#!/usr/bin/env bash
# ApplicationStop: stop the running service, if there is one. CodeDeploy runs the copy of this
# script from the previously deployed revision.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [[ ! -f "$PID_FILE" ]]; then
  echo "hello-service is not running (no $PID_FILE)"
  exit 0
fi

pid="$(cat "$PID_FILE")"
# A stale pid file may name a process that has since been reused by something else. A server
# that has exited but not been reaped yet (a zombie) has an empty command line: it is stopped.
running() {
  kill -0 "$1" 2>/dev/null && grep -qa "server.js" "/proc/$1/cmdline" 2>/dev/null
}
if running "$pid"; then
  kill "$pid"
  for _ in $(seq 1 100); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then
    echo "hello-service (pid $pid) did not stop within 10 s; killing it"
    kill -9 "$pid"
  fi
  echo "hello-service stopped (pid $pid)"
else
  echo "hello-service was not running (stale pid $pid)"
fi
rm -f "$PID_FILE"
