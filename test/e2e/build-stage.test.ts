import { readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { addCommit, makeGitRepo } from "../support/git-repo";
import { githubPushOf } from "../support/local-pushes";
import { api, startTestStack, waitFor } from "../support/local-stack";
import { appWithSecret, deliver, signedDelivery } from "../support/webhooks";

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
  return runEnded(created.body.id);
}

async function runEnded(runId: string) {
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${runId}`);
      return ["SUCCEEDED", "FAILED"].includes(body.status) ? body : undefined;
    },
    { what: "the run to end", timeoutMs: 20_000 },
  );
}

const buildStage = (run: { stages: { name: string; message?: string }[] }) =>
  run.stages.find((s) => s.name === "build");

/** The build's log, from the file the build stage's message points at. */
async function buildLog(run: { stages: { name: string; message?: string }[] }) {
  const message = buildStage(run)?.message ?? "";
  return readFile(fileURLToPath(/logs at (\S+)/.exec(message)?.[1] ?? ""), "utf8");
}

/**
 * Registers the app with the pipeline definition and a webhook secret, then sends it a signed
 * GitHub push of `commit` in the repository at `cloneUrl`; returns the run the push started.
 */
async function pushTo(
  app: string,
  definition: Record<string, unknown>,
  commit: string,
  cloneUrl: string,
): Promise<string> {
  const { secret } = await appWithSecret(stack, app, stringify(definition));
  const res = await deliver(stack, app, signedDelivery(githubPushOf(commit, cloneUrl), secret));
  expect(res.status).toBe(202);
  expect(res.body.started).toBe(true);
  return res.body.runId;
}

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
    const log = await buildLog(run);
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

  describe("of a run a GitHub push started", () => {
    let pushed: { dir: string; commits: string[] };
    beforeAll(async () => {
      const first = await makeGitRepo({ "version.txt": "pushed version\n" });
      const later = await addCommit(first.dir, { "version.txt": "a later version\n" }, "later");
      pushed = { dir: first.dir, commits: [first.commit, later] };
    });
    afterAll(() => rm(pushed.dir, { recursive: true, force: true }));

    it("clones the pushed commit from the repository the push names", async () => {
      // The pushed commit is not the branch's tip, so only checking it out exactly builds it.
      const [commit = ""] = pushed.commits;
      const definition = {
        executionMode: "parallel",
        build: { commands: ["cat version.txt", 'echo "HEAD is $(git rev-parse HEAD)"'] },
      };

      const run = await runEnded(await pushTo("pushed-builder", definition, commit, pushed.dir));

      expect(run).toMatchObject({
        status: "SUCCEEDED",
        trigger: { type: "webhook" },
        revision: { type: "git", repository: pushed.dir, commit },
      });
      expect(buildStage(run)).toMatchObject({ status: "SUCCEEDED" });
      const log = await buildLog(run);
      expect(log).toContain(`HEAD is ${commit}`);
      expect(log).toContain("pushed version");
      expect(log).not.toContain("a later version");
    });

    it("clones from the pipeline definition's repository when it names one", async () => {
      const [commit = ""] = pushed.commits;
      const definition = {
        repository: pushed.dir,
        executionMode: "parallel",
        build: { commands: ['echo "HEAD is $(git rev-parse HEAD)"'] },
      };

      const runId = await pushTo("named-repo", definition, commit, `${pushed.dir}-nowhere`);
      const run = await runEnded(runId);

      expect(run).toMatchObject({ status: "SUCCEEDED", revision: { repository: pushed.dir } });
      expect(await buildLog(run)).toContain(`HEAD is ${commit}`);
    });
  });
});
