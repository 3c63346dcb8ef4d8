import { writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import type { Input } from "../../cli/terminal";
import { packDirectory, useTempDirs } from "../support/bundles";
import { api, startTestStack, waitFor } from "../support/local-stack";

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), "../../examples/hello-service");
const USER = `arn:aws:iam::000000000000:user/${userInfo().username}`;

/** An app with production waves (no hosts here: these tests never get as far as deploying). */
const WAVES = stringify({
  executionMode: "parallel",
  stages: [
    { name: "beta", deploy: { deploymentGroup: "beta" } },
    { name: "sign-off", approval: {} },
    {
      name: "production",
      production: {
        waves: [
          { name: "one-box", deploymentGroup: "prod-1", bakeMinutes: 30, alarms: ["hello-5xx"] },
          { deploymentGroup: "prod-2", deploymentConfig: "CodeDeployDefault.HalfAtATime" },
        ],
      },
    },
  ],
});

let stack: Awaited<ReturnType<typeof startTestStack>>;
const tempDir = useTempDirs();

beforeAll(async () => {
  stack = await startTestStack();
  for (const [app, definition] of [
    ["waves", WAVES],
    ["plain", "executionMode: parallel\n"],
  ] as const) {
    expect((await api(stack, "PUT", `/apps/${app}`, definition)).status).toBe(201);
  }
  for (const app of ["waves", "plain"]) await push(app, "1.0.0");
});
afterAll(() => stack.cleanup());

async function push(app: string, version: string) {
  const file = await packDirectory(EXAMPLE, join(await tempDir(), `${app}.tar.gz`), "tar.gz");
  const pushed = await sluice(undefined, "push", file, "--app", app, "--version", version);
  expect(pushed.code, pushed.stderr).toBe(0);
}

/** A terminal that answers `answer` to the first question. */
function terminal(answer: string): Input {
  const stdin = Object.assign(Readable.from([`${answer}\n`]), { isTTY: true });
  const stdout = Object.assign(new PassThrough(), { isTTY: true });
  return { stdin, stdout };
}

/** `sluice <args>` in this process, with `input` (none: no terminal, nothing piped). */
async function sluice(input: Input | undefined, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // These tests are about releases, not the runs pushes start: they do not follow them.
  const follow = args[0] === "push" ? ["--no-follow"] : [];
  const code = await main(
    [...args, ...follow, "--api", stack.endpoints.api, "--s3-endpoint", stack.endpoints.s3],
    {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      env: {},
      ...(input ? { input } : {}),
    },
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}

async function runsOf(app: string): Promise<number> {
  return (await api(stack, "GET", `/apps/${app}/runs`)).body.runs.length;
}

describe("POST /apps/{app}/releases/{version}/rollbacks?dryRun=true", () => {
  it("answers the rollback's plan: the production waves, no bakes, what each group runs; records nothing", async () => {
    const before = await runsOf("waves");

    const res = await api(stack, "POST", "/apps/waves/releases/1.0.0/rollbacks?dryRun=true");

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      app: "waves",
      kind: "rollback",
      version: "1.0.0",
      revision: { type: "bundle", key: "waves/1.0.0.tar.gz", sha256: expect.any(String) },
      current: { "production/one-box": null, "production/wave-2": null },
      skipped: [
        { stage: "beta", why: "a rollback goes through the production waves only" },
        { stage: "sign-off", why: "a rollback goes through the production waves only" },
        { stage: "production/one-box/bake", why: "a rollback bakes only when asked to (--bake)" },
      ],
    });
    expect(res.body.plan.steps.map((s: { id: string }) => s.id)).toEqual([
      "source",
      "build",
      "production/one-box",
      "production/wave-2",
    ]);
    const baked = await api(stack, "POST", "/apps/waves/releases/1.0.0/rollbacks?dryRun=true", {
      bake: true,
    });
    expect(baked.body.plan.steps.map((s: { id: string }) => s.id)).toContain(
      "production/one-box/bake",
    );
    expect(await runsOf("waves")).toBe(before);
  });

  it.each([
    [
      "an unknown version",
      "/apps/waves/releases/9.9.9/rollbacks",
      {},
      404,
      /version 9\.9\.9 of app waves was never released/,
    ],
    [
      "an unknown app",
      "/apps/ghost/releases/1.0.0/rollbacks",
      {},
      404,
      /app "ghost" is not registered/,
    ],
    [
      "an app with no production stage",
      "/apps/plain/releases/1.0.0/rollbacks",
      {},
      409,
      /app plain has no production stage to roll back/,
    ],
    [
      "an unknown field",
      "/apps/waves/releases/1.0.0/rollbacks",
      { bake: true, skipBeta: true },
      400,
      /Unrecognized key: "skipBeta"/,
    ],
    [
      "a bake that is no boolean",
      "/apps/waves/releases/1.0.0/rollbacks",
      { bake: "yes" },
      400,
      /bake/,
    ],
    [
      "a dryRun that is no boolean",
      "/apps/waves/releases/1.0.0/rollbacks?dryRun=maybe",
      {},
      400,
      /dryRun is true or false/,
    ],
    ["a malformed version", "/apps/waves/releases/..%2F1/runs", {}, 400, /version/],
  ])("refuses %s (%s)", async (_what, route, body, status, message) => {
    const before = await runsOf("waves");

    const res = await api(stack, "POST", route, body);

    expect([res.status, res.body.message]).toEqual([status, expect.stringMatching(message)]);
    expect(await runsOf("waves")).toBe(before);
  });

  it("refuses a version whose every upload was refused with 409, saying why", async () => {
    const file = join(await tempDir(), "bad.tar.gz");
    await writeFile(file, "not a tarball at all");
    await sluice(
      undefined,
      "push",
      file,
      "--app",
      "waves",
      "--version",
      "0.9.0",
      "--timeout",
      "10",
    );
    await waitFor(async () => {
      const { body } = await api(stack, "GET", "/apps/waves/bundles/0.9.0");
      return body.rejections?.length ? true : undefined;
    });

    const res = await api(stack, "POST", "/apps/waves/releases/0.9.0/runs");

    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(
      /^version 0\.9\.0 of app waves was never released: its upload waves\/0\.9\.0\.tar\.gz was refused \([A-Z_]+: .+\)$/,
    );
  });
});

describe("sluice release and sluice rollback", () => {
  it("list the plan and ask on a terminal: no starts nothing, yes starts the run as the CLI's user", async () => {
    const before = await runsOf("plain");

    const declined = await sluice(terminal("n"), "release", "plain", "1.0.0");
    const after = await runsOf("plain");
    const accepted = await sluice(terminal("y"), "release", "plain", "1.0.0", "--reason", "again");

    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain("release of plain 1.0.0, through the whole pipeline");
    expect(declined.stdout).toMatch(/build +skipped: uploaded bundles are deployed as they are/);
    expect(declined.stderr).toBe("sluice: the release was not confirmed: nothing was started\n");
    expect(after).toBe(before);
    expect(accepted.code, accepted.stderr).toBe(0);
    const runId = /^run ([0-9A-Z]{26}) QUEUED \(release of plain to 1\.0\.0\)$/m.exec(
      accepted.stdout,
    )?.[1];
    const run = await waitFor(async () => {
      const { body } = await api(stack, "GET", `/runs/${runId}`);
      return body.status === "SUCCEEDED" ? body : undefined;
    });
    expect(run).toMatchObject({
      kind: "release",
      trigger: { type: "api", by: USER, actor: USER, reason: "again" },
      revision: { key: "plain/1.0.0.tar.gz" },
    });
  });

  it("refuse without a terminal unless --yes, before asking the API anything", async () => {
    const before = await runsOf("waves");

    const release = await sluice(undefined, "release", "waves", "1.0.0");
    const rollback = await sluice(undefined, "rollback", "waves", "--to", "1.0.0");
    const planned = await sluice(undefined, "rollback", "waves", "--to", "1.0.0", "--dry-run");

    expect(release).toMatchObject({ code: 1, stdout: "" });
    expect(release.stderr).toBe(
      "sluice: no terminal to confirm the release on: pass --yes to start it without asking, or --dry-run to list its plan\n",
    );
    expect(rollback.stderr).toContain("no terminal to confirm the rollback on");
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(
      /production\/one-box +deploy to prod-1 \(CodeDeployDefault\.OneAtATime, alarms hello-5xx\): nothing recorded → 1\.0\.0/,
    );
    expect(await runsOf("waves")).toBe(before);
  });
});
