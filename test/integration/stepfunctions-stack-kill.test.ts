import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { makeGitRepo } from "../support/git-repo";
import { BuildGate } from "../support/held-builds";
import { waitFor } from "../support/local-stack";
import { alive } from "../support/sfn-probes";
import { killStackProcesses, startStackProcess } from "../support/stack-process";

const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  killStackProcesses();
  for (const cleanup of cleanups) await cleanup();
});

/** The processes of builds held at `gate`: they carry its folder in their environment. */
function heldBuildProcesses(gate: BuildGate): number[] {
  const marker = `SLUICE_TEST_GATE=${gate.dir}\0`;
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(marker) && alive(pid);
      } catch {
        return false;
      }
    });
}

describe("kill -9 of npm start in the middle of a build, then npm start again", () => {
  // Two starts of npm start, each a process booting the stack: on a loaded machine they take
  // most of the default 30 s.
  it("kills the build left behind, builds again, and the run succeeds", {
    timeout: 60_000,
  }, async () => {
    // Prepare: a run held in its build
    const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-stack-kill-"));
    const repo = await makeGitRepo({ "README.md": "killed mid-build\n" });
    const gate = await BuildGate.create();
    cleanups.push(async () => {
      await gate.cleanup();
      await rm(stateDir, { recursive: true, force: true });
      await rm(repo.dir, { recursive: true, force: true });
    });
    const first = await startStackProcess(stateDir);
    const app = stringify({ repository: repo.dir, executionMode: "parallel", build: gate.build });
    expect((await first.call("PUT", "/apps/killed", app)).status).toBe(201);
    const created = await first.call("POST", "/apps/killed/runs", {
      revision: { type: "git", commit: repo.commit },
    });
    const runId = String(created.body.id);
    await gate.waitForArrivals(1);
    const building = await waitFor(async () => {
      const pids = heldBuildProcesses(gate);
      return pids.length > 0 ? pids : undefined;
    });

    // Act
    await first.kill();
    const leftBehind = building.filter(alive);
    const second = await startStackProcess(stateDir);
    await gate.waitForArrivals(2);
    const stillAlive = building.filter(alive);
    await gate.open();
    const run = await waitFor(
      async () => {
        const { body } = await second.call("GET", `/runs/${runId}`);
        return body.status === "RUNNING" ? undefined : body;
      },
      { what: "the run to end", timeoutMs: 20_000 },
    );

    // Assess
    expect(leftBehind.length).toBeGreaterThan(0);
    expect(stillAlive).toEqual([]);
    expect(run.status).toBe("SUCCEEDED");
    expect((await gate.arrivals()).map((a) => a.runId)).toEqual([runId, runId]);
    await second.kill();
  });
});
