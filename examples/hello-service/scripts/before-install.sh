#!/usr/bin/env bash
# BeforeInstall: check that the host can run the service before its files are copied.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if ! command -v "$NODE" >/dev/null; then
  echo "hello-service needs Node.js: '$NODE' is not on PATH" >&2
  exit 1
fi
# validate.sh uses the fetch that Node has built in since version 18.
"$NODE" -e '
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 18) {
    console.error(`hello-service needs Node 18 or later, found ${process.version}`);
    process.exit(1);
  }
'
mkdir -p "$APP_DIR"
echo "host is ready for hello-service in $APP_DIR"
