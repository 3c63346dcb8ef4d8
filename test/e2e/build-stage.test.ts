import { readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { makeGitRepo } from "../support/git-repo";
import { api, startTestStack, waitFor } from "../support/local-stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commit: string };

async function register(app: string, commands: string[]) {
  const definition = stringify({
    repository: repo.dir,
    executionMode: "parallel",
    build: { commands },
  });
  expect((await api(stack, "PUT", `/apps/${app}`, definition)).status).toBe(201);
}

async function runToEnd(app: string, commit: string) {
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: { type: "git", ref: "refs/heads/main", commit },
  });
  expect(created.status).toBe(202);
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${created.body.id}`);
      return ["SUCCEEDED", "FAILED"].includes(body.status) ? body : undefined;
    },
    { what: "the run to end", timeoutMs: 20_000 },
  );
}

const buildStage = (run: { stages: { name: string; message?: string }[] }) =>
  run.stages.find((s) => s.name === "build");

beforeAll(async () => {
  stack = await startTestStack();
  repo = await makeGitRepo({ "hello.txt": "hello from the repository\n" });
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

describe("the build stage", () => {
  it("clones the repository at the run's commit and runs the app's commands in the clone", async () => {
    await register("builder", ["cat hello.txt", 'echo "built $SLUICE_COMMIT"']);

    const run = await runToEnd("builder", repo.commit);

    expect(run.status).toBe("SUCCEEDED");
    const build = buildStage(run);
    expect(build).toMatchObject({
      status: "SUCCEEDED",
      message: expect.stringContaining("logs at file://"),
    });
    const log = await readFile(
      fileURLToPath(/logs at (\S+)/.exec(build?.message ?? "")?.[1] ?? ""),
      "utf8",
    );
    expect(log).toContain("hello from the repository");
    expect(log).toContain(`built ${repo.commit}`);
  });

  it("fails the run when a build command fails, naming the phase and the exit status", async () => {
    await register("breaker", ["test -f hello.txt", "exit 3"]);

    const run = await runToEnd("breaker", repo.commit);

    expect(run.status).toBe("FAILED");
    expect(buildStage(run)).toMatchObject({
      status: "FAILED",
      message: expect.stringMatching(/FAILED in phase BUILD: .*exit status 3.*logs at file:/),
    });
  });

  it("fails in the clone when the commit is not in the repository", async () => {
    await register("ghost-commit", ["true"]);

    const run = await runToEnd("ghost-commit", "0".repeat(40));

    expect(run.status).toBe("FAILED");
    expect(buildStage(run)).toMatchObject({
      status: "FAILED",
      message: expect.stringContaining("PRE_BUILD"),
    });
  });

  it("does not run anything a repository URL or commit smuggles in", async () => {
    const marker = `${repo.dir}/pwned`;
    const definition = stringify({
      repository: `${repo.dir}; touch ${marker}`,
      executionMode: "parallel",
      build: { commands: ["true"] },
    });
    await api(stack, "PUT", "/apps/smuggler", definition);

    const run = await runToEnd("smuggler", repo.commit);

    expect(run.status).toBe("FAILED");
    await expect(readFile(marker)).rejects.toThrow();
  });

  it("fails at the build stage when the app has a build but no repository to clone", async () => {
    await api(
      stack,
      "PUT",
      "/apps/homeless",
      stringify({ executionMode: "parallel", build: { commands: ["true"] } }),
    );

    const run = await runToEnd("homeless", repo.commit);

    expect(run.status).toBe("FAILED");
    expect(buildStage(run)).toMatchObject({
      status: "FAILED",
      message: expect.stringContaining("nothing to clone"),
    });
  });
});
