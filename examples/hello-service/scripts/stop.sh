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
# A stale pid file may name a process that has since been reused by something else.
if kill -0 "$pid" 2>/dev/null && grep -qa "server.js" "/proc/$pid/cmdline" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "hello-service (pid $pid) did not stop within 10 s; killing it"
    kill -9 "$pid"
  fi
  echo "hello-service stopped (pid $pid)"
else
  echo "hello-service was not running (stale pid $pid)"
fi
rm -f "$PID_FILE"
