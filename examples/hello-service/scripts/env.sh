# Settings shared by the hook scripts; every one can be overridden from the environment, which
# is how one machine runs several hosts of a local fleet side by side.
# On a host of Sluice's local fleet, the appspec's /srv/hello-service is under the host's root
# folder (SLUICE_HOST_ROOT) and each host has a port of its own (SLUICE_HOST_PORT).
APP_DIR="${APP_DIR:-${SLUICE_HOST_ROOT:-}/srv/hello-service}"
PORT="${PORT:-${SLUICE_HOST_PORT:-8080}}"
PID_FILE="${PID_FILE:-$APP_DIR/hello-service.pid}"
LOG_FILE="${LOG_FILE:-$APP_DIR/hello-service.log}"
NODE="${NODE:-node}"
