import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { HookProcesses } from "../../local/codedeploy/processes";
import { waitFor } from "../support/local-stack";
import { alive } from "../support/sfn-probes";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

it("ends what a hook left running when the stack stops, even once its state folder is gone", async () => {
  // Prepare: a hook that starts an app in the background, as ApplicationStart does.
  const state = await mkdtemp(path.join(tmpdir(), "sluice-hooks-state-"));
  const host = await mkdtemp(path.join(tmpdir(), "sluice-hooks-host-"));
  dirs.push(state, host);
  const script = path.join(host, "start.sh");
  const pidFile = path.join(host, "app.pid");
  await writeFile(
    script,
    `#!/bin/sh\nnohup sleep 60 >/dev/null 2>&1 </dev/null &\necho $! > ${pidFile}\n`,
    { mode: 0o755 },
  );
  const processes = new HookProcesses(path.join(state, "processes"));
  const run = await processes.run({
    command: script,
    cwd: host,
    env: { PATH: process.env.PATH ?? "" },
    timeoutMs: 10_000,
    logFile: path.join(host, "hooks.log"),
  });
  const app = Number((await readFile(pidFile, "utf8")).trim());
  const started = alive(app);

  // Act: the state folder goes (a person deleting .sluice) before the stack stops.
  await rm(state, { recursive: true, force: true });
  processes.killAll();

  // Assess
  expect(run.exitCode).toBe(0);
  expect(started).toBe(true);
  await waitFor(async () => (alive(app) ? undefined : true), {
    what: `the app (pid ${app}) to end`,
  });
});
