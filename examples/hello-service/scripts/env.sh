# Settings shared by the hook scripts; every one can be overridden from the environment, which
# is how one machine runs several hosts of a local fleet side by side.
APP_DIR="${APP_DIR:-/srv/hello-service}"
PORT="${PORT:-8080}"
PID_FILE="${PID_FILE:-$APP_DIR/hello-service.pid}"
LOG_FILE="${LOG_FILE:-$APP_DIR/hello-service.log}"
NODE="${NODE:-node}"
