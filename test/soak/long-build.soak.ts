import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { makeGitRepo } from "../support/git-repo";
import { api, startTestStack, waitFor } from "../support/local-stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commit: string };

beforeAll(async () => {
  stack = await startTestStack();
  repo = await makeGitRepo({ "README.md": "a slow build\n" });
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

describe("a local build of 90 s", () => {
  it("runs to its end (no 60 s cap on a task) and the run succeeds", async () => {
    const definition = stringify({
      repository: repo.dir,
      executionMode: "parallel",
      build: { commands: ["sleep 90", "echo done"], timeoutMinutes: 5 },
    });
    expect((await api(stack, "PUT", "/apps/slow", definition)).status).toBe(201);
    const started = Date.now();
    const created = await api(stack, "POST", "/apps/slow/runs", {
      revision: { type: "git", commit: repo.commit },
    });

    const run = await waitFor(
      async () => {
        const { body } = await api(stack, "GET", `/runs/${created.body.id}`);
        return ["SUCCEEDED", "FAILED"].includes(body.status) ? body : undefined;
      },
      { what: "the slow run to end", timeoutMs: 200_000, intervalMs: 500 },
    );

    expect(run.status, JSON.stringify(run.error)).toBe("SUCCEEDED");
    expect(Date.now() - started).toBeGreaterThanOrEqual(90_000);
  });
});
