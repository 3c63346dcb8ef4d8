import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { atOnce, HOOKS, TARGETS } from "./noop-release";

const script = (hook: string) => HOOKS.find(([name]) => name === hook)?.[1] ?? "";

/**
 * The baseline: a bash script that deploys a bundle the way the local CodeDeploy agent does, with
 * nothing around it. Per host folder: ApplicationStop of the revision installed there (if any),
 * unpack the bundle into its own folder, BeforeInstall, switch `current` to it, AfterInstall,
 * ApplicationStart, ValidateService. Targets go one after another; within one, `xargs -P` keeps
 * as many hosts going as its deployment config allows at once.
 */
const DEPLOY_SH = `#!/usr/bin/env bash
set -euo pipefail
bundle=$1 hosts=$2 revision=$3
shift 3
deploy_host() {
  local host=$1
  if [ -e "$host/current" ]; then (cd "$host/current" && ./${script("ApplicationStop")}); fi
  mkdir -p "$host/revisions/$revision"
  tar -xzf "$bundle" -C "$host/revisions/$revision"
  cd "$host/revisions/$revision"
  ./${script("BeforeInstall")}
  ln -sfn "revisions/$revision" "$host/current"
  ./${script("AfterInstall")}
  ./${script("ApplicationStart")}
  ./${script("ValidateService")}
}
export -f deploy_host
export revision bundle
for target in "$@"; do
  IFS=: read -r group count parallel <<<"$target"
  seq 1 "$count" | xargs -P "$parallel" -I{} bash -ec 'deploy_host "$1"' _ "$hosts/$group-{}"
done
`;

/** Writes the script into `dir`; answers a function that deploys a bundle with it, timed. */
export async function shellDeployer(dir: string) {
  const file = path.join(dir, "deploy.sh");
  await writeFile(file, DEPLOY_SH, { mode: 0o755 });
  const targets = TARGETS.map((t) => `${t.group}:${t.hosts}:${atOnce(t)}`);
  return async (bundle: string, revision: string): Promise<number> => {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn("bash", [file, bundle, path.join(dir, "hosts"), revision, ...targets], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`deploy.sh exited with ${code}`)),
      );
    });
    return performance.now() - t0;
  };
}
