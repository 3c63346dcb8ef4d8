import { rm } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { addCommit, makeGitRepo } from "../support/git-repo";
import { BuildGate } from "../support/held-builds";
import { githubPushOf } from "../support/local-pushes";
import { allRunsEnded, runStatuses, startTestStack, streamsTaken } from "../support/local-stack";
import { appWithSecret, deliver, runsOf, signedDelivery } from "../support/webhooks";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commits: string[] };
let gate: BuildGate | undefined;

beforeAll(async () => {
  stack = await startTestStack();
  const first = await makeGitRepo({ "app.txt": "version 1\n" });
  const second = await addCommit(first.dir, { "app.txt": "version 2\n" }, "second");
  const third = await addCommit(first.dir, { "app.txt": "version 3\n" }, "third");
  repo = { dir: first.dir, commits: [first.commit, second, third] };
});
afterEach(async () => {
  await gate?.cleanup();
  gate = undefined;
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

/**
 * An app in `executionMode` whose builds wait at a gate until the test opens it. It names no
 * repository, so its builds clone the one the pushes name: the local repository.
 */
async function heldApp(name: string, executionMode: string) {
  gate = await BuildGate.create();
  const app = await appWithSecret(stack, name, stringify({ executionMode, build: gate.build }));
  return { ...app, gate };
}

async function push(app: { name: string; secret: string }, commit: string): Promise<string> {
  const res = await deliver(
    stack,
    app.name,
    signedDelivery(githubPushOf(commit, repo.dir), app.secret),
  );
  expect(res.status).toBe(202);
  expect(res.body.started).toBe(true);
  return res.body.runId;
}

/**
 * Pushes the repository's three commits to a new held app: the second and third while the first
 * is in its build. Returns the statuses seen then, and the runs once all have ended.
 */
async function pushThreeDuringFirstBuild(name: string, executionMode: string) {
  const app = await heldApp(name, executionMode);
  const [c1 = "", c2 = "", c3 = ""] = repo.commits;
  const first = await push(app, c1);
  await app.gate.waitForArrivals(1);
  const ids = [first, await push(app, c2), await push(app, c3)];
  await streamsTaken(stack);
  const whileHeld = await runStatuses(stack, ids);
  await app.gate.open();
  return { app, ids, whileHeld, runs: await allRunsEnded(stack, ids) };
}

describe("execution modes of webhook-started runs", () => {
  it("queued: pushes that arrive during a build run one after another, in order", async () => {
    const [c1 = "", c2 = "", c3 = ""] = repo.commits;
    const { app, ids, whileHeld, runs } = await pushThreeDuringFirstBuild("hooked-queue", "queued");

    expect(whileHeld).toEqual(["RUNNING", "QUEUED", "QUEUED"]);
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    expect(await app.gate.arrivals()).toEqual([
      { runId: ids[0], commit: c1 },
      { runId: ids[1], commit: c2 },
      { runId: ids[2], commit: c3 },
    ]);
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].endedAt));
    }
    const listed = await runsOf(stack, app.name);
    expect(listed.map((r) => [r.id, r.revision.commit, r.status])).toEqual([
      [ids[2], c3, "SUCCEEDED"],
      [ids[1], c2, "SUCCEEDED"],
      [ids[0], c1, "SUCCEEDED"],
    ]);
  });

  it("superseded: the newest push replaces the one waiting, which is never built", async () => {
    const [c1 = "", c2 = "", c3 = ""] = repo.commits;
    const { app, ids, whileHeld, runs } = await pushThreeDuringFirstBuild(
      "hooked-newest",
      "superseded",
    );

    expect(whileHeld).toEqual(["RUNNING", "SUPERSEDED", "QUEUED"]);
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUPERSEDED", "SUCCEEDED"]);
    expect(runs[1].error).toMatchObject({ error: "Superseded" });
    expect(runs[1].error.cause).toContain(ids[2]);
    expect(await app.gate.arrivals()).toEqual([
      { runId: ids[0], commit: c1 },
      { runId: ids[2], commit: c3 },
    ]);
    expect(Date.parse(runs[2].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].endedAt));
    const listed = await runsOf(stack, app.name);
    expect(listed.map((r) => [r.id, r.revision.commit, r.status])).toEqual([
      [ids[2], c3, "SUCCEEDED"],
      [ids[1], c2, "SUPERSEDED"],
      [ids[0], c1, "SUCCEEDED"],
    ]);
  });
});
