#!/usr/bin/env bash
# ValidateService: poll /health until the service answers, for a bounded number of attempts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

attempts="${HEALTH_ATTEMPTS:-100}"
delay="${HEALTH_DELAY_SECONDS:-0.2}"
url="http://127.0.0.1:${PORT}/health"

for attempt in $(seq 1 "$attempts"); do
  if "$NODE" -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then(async (response) => {
        const body = await response.json();
        if (!response.ok || body.status !== "ok") process.exit(1);
        console.log(JSON.stringify(body));
      })
      .catch(() => process.exit(1));
  ' "$url"; then
    echo "hello-service is healthy (attempt $attempt of $attempts)"
    exit 0
  fi
  sleep "$delay"
done

echo "hello-service did not report healthy at $url after $attempts attempts" >&2
exit 1
