import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { makeGitRepo } from "../support/git-repo";
import { api, startTestStack, waitFor } from "../support/local-stack";

const ENDED = ["SUCCEEDED", "FAILED", "SUPERSEDED"];
let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commit: string };

beforeAll(async () => {
  stack = await startTestStack();
  repo = await makeGitRepo({ "README.md": "slow build\n" });
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

/** An app whose builds take a while, so a run is still in progress when the next arrives. */
async function register(app: string, executionMode: string) {
  const definition = stringify({
    repository: repo.dir,
    executionMode,
    build: { commands: ["sleep 0.4"] },
  });
  expect((await api(stack, "PUT", `/apps/${app}`, definition)).status).toBe(201);
}

async function startRuns(app: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await api(stack, "POST", `/apps/${app}/runs`, {
      revision: { type: "git", commit: repo.commit },
    });
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  return ids;
}

async function allEnded(ids: string[]) {
  return waitFor(
    async () => {
      const runs = await Promise.all(
        ids.map(async (id) => (await api(stack, "GET", `/runs/${id}`)).body),
      );
      return runs.every((r) => ENDED.includes(r.status)) ? runs : undefined;
    },
    { what: "every run to end", timeoutMs: 30_000 },
  );
}

describe("execution modes over the local stack", () => {
  it("queued: runs one at a time, in the order they came", async () => {
    await register("one-by-one", "queued");

    const runs = await allEnded(await startRuns("one-by-one", 3));

    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].endedAt));
    }
  });

  it("superseded: the newest waiting change replaces the older ones", async () => {
    await register("newest-wins", "superseded");

    const runs = await allEnded(await startRuns("newest-wins", 4));

    expect(runs.map((r) => r.status)).toEqual([
      "SUCCEEDED",
      "SUPERSEDED",
      "SUPERSEDED",
      "SUCCEEDED",
    ]);
    expect(runs[1].error.cause).toContain(runs[2].id);
    expect(Date.parse(runs[3].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].endedAt));
  });

  it("parallel: every run starts without waiting for the others", async () => {
    await register("all-at-once", "parallel");

    const runs = await allEnded(await startRuns("all-at-once", 3));

    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    const lastStart = Math.max(...runs.map((r) => Date.parse(r.startedAt)));
    const firstEnd = Math.min(...runs.map((r) => Date.parse(r.endedAt)));
    expect(lastStart).toBeLessThan(firstEnd);
  });
});
