#!/usr/bin/env bash
# ApplicationStart: start the service in the background and record its pid for stop.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  echo "hello-service is already running (pid $(cat "$PID_FILE"))"
  exit 0
fi

cd "$APP_DIR"
# The deployment agent waits until nothing holds the hook's output open, so the server must
# not inherit it: its output goes to the log file instead.
PORT="$PORT" nohup "$NODE" server.js >>"$LOG_FILE" 2>&1 </dev/null &
echo "$!" >"$PID_FILE"
echo "hello-service started (pid $!, port $PORT, log $LOG_FILE)"
