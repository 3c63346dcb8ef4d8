import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { main } from "../../cli/main";
import { packDirectory, useTempDirs, validEntries, writeBundle } from "../support/bundles";
import { addCommit, makeGitRepo } from "../support/git-repo";
import { api, startTestStack, waitFor } from "../support/local-stack";
import { deliver, pushSample, signedDelivery } from "../support/webhooks";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLE = join(ROOT, "examples/hello-service");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

let stack: Awaited<ReturnType<typeof startTestStack>>;
const tempDir = useTempDirs();

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.cleanup());

/**
 * Runs `sluice <args>` in this process, against the test stack, with `stdin` piped in and as if
 * in the folder `cwd`, when given.
 */
async function sluiceWith(
  { stdin, cwd, env = {} }: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv },
  ...args: string[]
) {
  const out: string[] = [];
  const err: string[] = [];
  // These tests are about what a push answers, not the run it starts: they do not follow it.
  const follow = args[0] === "push" ? ["--no-follow"] : [];
  const code = await main(
    [...args, ...follow, "--api", stack.endpoints.api, "--s3-endpoint", stack.endpoints.s3],
    {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      env,
      ...(stdin === undefined
        ? {}
        : { input: { stdin: Readable.from([stdin]), stdout: new PassThrough() } }),
      ...(cwd ? { cwd } : {}),
    },
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const sluice = (...args: string[]) => sluiceWith({}, ...args);

async function registered(app: string) {
  const file = join(await tempDir(), "pipeline.yml");
  await writeFile(file, "executionMode: parallel\n");
  return sluice("apps", "put", app, file);
}

const runIdIn = (text: string) => /^run ([0-9A-Z]{26}) /m.exec(text)?.[1];

describe("sluice apps put", () => {
  it("registers an app, then updates it", async () => {
    const first = await registered("cli-app");
    const second = await registered("cli-app");

    expect(first).toEqual({ code: 0, stdout: "app cli-app registered\n", stderr: "" });
    expect(second.stdout).toBe("app cli-app updated\n");
    expect((await api(stack, "GET", "/apps/cli-app")).body.pipeline.executionMode).toBe("parallel");
  });
});

describe("sluice apps webhook-secret", () => {
  it("prints a new secret that git hosts can then sign with, and the old one stops working", async () => {
    await registered("cli-hooks");
    const push = pushSample("github", "branch");

    const first = await sluice("apps", "webhook-secret", "cli-hooks");
    const second = await sluice("apps", "webhook-secret", "cli-hooks");

    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const [secret, rotated] = [first.stdout.trim(), second.stdout.trim()];
    expect(rotated).not.toBe(secret);
    expect((await deliver(stack, "cli-hooks", signedDelivery(push, secret))).status).toBe(401);
    expect((await deliver(stack, "cli-hooks", signedDelivery(push, rotated))).status).toBe(202);
  });

  it("sets a secret piped in on stdin, never shown, and records the OS user who set it", async () => {
    await registered("cli-own-secret");
    const secret = "It's a Secret to Everybody";
    const push = pushSample("github", "branch");

    const result = await sluiceWith(
      { stdin: `${secret}\n` },
      "apps",
      "webhook-secret",
      "cli-own-secret",
      "--secret-stdin",
    );
    const short = await sluiceWith(
      { stdin: "too short\n" },
      "apps",
      "webhook-secret",
      "cli-own-secret",
      "--secret-stdin",
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^webhook secret of app cli-own-secret set \\(your own\\), by arn:aws:iam::000000000000:user/${userInfo().username} at `,
      ),
    );
    expect(result.stdout).not.toContain(secret);
    // Who set it is kept beside the secret, where an operator reads a parameter's metadata.
    const { Parameters = [] } = await new SSMClient({}).send(
      new DescribeParametersCommand({
        ParameterFilters: [
          { Key: "Name", Values: ["/sluice/local/apps/cli-own-secret/webhook-secret"] },
        ],
      }),
    );
    expect(Parameters[0]?.Description).toMatch(
      new RegExp(
        `^Sluice webhook secret of app cli-own-secret, set by arn:aws:iam::000000000000:user/${userInfo().username} at 20`,
      ),
    );
    expect((await deliver(stack, "cli-own-secret", signedDelivery(push, secret))).status).toBe(202);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(
      /400 invalid webhook secret: secret: a webhook secret needs at least 20 characters/,
    );
  });

  it("fails with the API's reason for an app that is not registered", async () => {
    const result = await sluice("apps", "webhook-secret", "nobody");

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/404 app "nobody" is not registered/);
  });
});

describe("sluice run start --version", () => {
  it("deploys a released version again, as the bytes it was released with", async () => {
    // Prepare
    await registered("redeploy");
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "r.zip"), "zip");
    const pushed = await sluice("push", file, "--app", "redeploy", "--version", "2.0.0");
    const released = await api(stack, "GET", `/runs/${runIdIn(pushed.stdout)}`);

    // Act
    const again = await sluice("run", "start", "--app", "redeploy", "--version", "2.0.0");

    // Assess
    expect(again.code).toBe(0);
    const rerun = await api(stack, "GET", `/runs/${runIdIn(again.stdout)}`);
    expect(rerun.body.id).not.toBe(released.body.id);
    expect(rerun.body.revision).toMatchObject({
      key: "redeploy/2.0.0.zip",
      sha256: released.body.revision.sha256,
    });
  });

  it("refuses a version that was never released, and one of --commit or --version", async () => {
    await registered("redeploy-none");

    const never = await sluice("run", "start", "--app", "redeploy-none", "--version", "9.9.9");
    const neither = await sluice("run", "start", "--app", "redeploy-none");

    expect(never).toMatchObject({ code: 1 });
    expect(never.stderr).toContain("version 9.9.9 of app redeploy-none was never released");
    expect(neither.stderr).toContain("--commit <sha> or --version <version>");
    expect((await api(stack, "GET", "/apps/redeploy-none/runs")).body.runs).toEqual([]);
  });
});

describe("sluice push", () => {
  it("uploads the bundle under <app>/<version> and prints the run it started", async () => {
    // Prepare
    await registered("hello");
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.tar.gz"), "tar.gz");

    // Act
    const { code, stdout, stderr } = await sluice(
      "push",
      file,
      "--app",
      "hello",
      "--version",
      "1.0.0",
    );

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const runId = runIdIn(stdout);
    const run = await api(stack, "GET", `/runs/${runId}`);
    expect(run.status).toBe(200);
    // The sha256 whole, as docs/cli.md shows it.
    expect(run.body.revision.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stdout.split("\n")[0]).toBe(
      `uploaded hello.tar.gz to s3://${stack.resources.releasesBucket}/hello/1.0.0.tar.gz (sha256 ${run.body.revision.sha256})`,
    );
    expect(run.body.revision.key).toBe("hello/1.0.0.tar.gz");
    expect(run.body.trigger.type).toBe("upload");
  });

  it("sends --message and --author with the bundle, and its run keeps them", async () => {
    // Prepare
    await registered("hello");
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");
    const message = "Zoë's checkout fix\n\nTotals were off by one cent; 合計を修正.";

    // Act
    const pushed = await sluice(
      "push",
      file,
      "--app",
      "hello",
      "--version",
      "1.1.0",
      "--message",
      message,
      "--author",
      "Zoë Ångström <zoe@example.org>",
    );

    // Assess
    expect(pushed).toMatchObject({ code: 0, stderr: "" });
    const run = await api(stack, "GET", `/runs/${runIdIn(pushed.stdout)}`);
    expect(run.body.change).toEqual({
      message,
      author: { name: "Zoë Ångström", email: "zoe@example.org" },
    });
    const { Metadata } = await new S3Client({ forcePathStyle: true }).send(
      new HeadObjectCommand({ Bucket: stack.resources.releasesBucket, Key: "hello/1.1.0.zip" }),
    );
    expect(Metadata?.["sluice-author-email"]).toBe("zoe@example.org");
    expect(Metadata?.["sluice-author-name"]).toMatch(/^=\?UTF-8\?B\?/);
  });

  it("sends the last commit of the git work tree it runs in when given neither", async () => {
    // Prepare
    await registered("hello");
    const repo = await makeGitRepo({ "README.md": "hello\n" });
    onTestFinished(() => rm(repo.dir, { recursive: true, force: true }));
    const message = "Release 1.2.0\n\nWith the new greeting.";
    await addCommit(repo.dir, { "README.md": "hello again\n" }, message);
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");

    // Act
    const pushed = await sluiceWith(
      { cwd: repo.dir },
      "push",
      file,
      "--app",
      "hello",
      "--version",
      "1.2.0",
    );

    // Assess
    expect(pushed).toMatchObject({ code: 0, stderr: "" });
    const run = await api(stack, "GET", `/runs/${runIdIn(pushed.stdout)}`);
    expect(run.body.change).toEqual({
      message,
      author: { name: "Test", email: "test@example.com" },
    });
  });

  it("fails with the reason when the bundle is rejected, and no run starts", async () => {
    await registered("hello");
    const entries = validEntries().filter((entry) => entry.path !== "appspec.yml");
    const file = await writeBundle(join(await tempDir(), "broken.zip"), "zip", entries);

    const { code, stdout, stderr } = await sluice(
      "push",
      file,
      "--app",
      "hello",
      "--version",
      "2.0.0",
    );

    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^sluice: bundle rejected \(NO_APPSPEC\): bundle has no appspec\.yml[^\n]*\n$/,
    );
    expect(runIdIn(stdout)).toBeUndefined();
    const runs = (await api(stack, "GET", "/apps/hello/runs")).body.runs;
    expect(
      runs.filter((r: { revision: { key: string } }) => r.revision.key === "hello/2.0.0.zip"),
    ).toEqual([]);
  });

  it("fails with VERSION_EXISTS when the version was released with other bytes, and uploads nothing", async () => {
    await registered("hello");
    const released = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");
    expect((await sluice("push", released, "--app", "hello", "--version", "3.0.0")).code).toBe(0);
    const head = () =>
      new S3Client({ forcePathStyle: true }).send(
        new HeadObjectCommand({ Bucket: stack.resources.releasesBucket, Key: "hello/3.0.0.zip" }),
      );
    const before = await head();
    const other = await writeBundle(join(await tempDir(), "other.zip"), "zip", validEntries());

    const { code, stderr } = await sluice("push", other, "--app", "hello", "--version", "3.0.0");

    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^sluice: bundle rejected \(VERSION_EXISTS\): version 3\.0\.0 of app hello was already released with sha256 [0-9a-f]{64} \(run [0-9A-Z]{26}\); this upload's sha256 is [0-9a-f]{64}: release it as a new version; nothing was uploaded\n$/,
    );
    // The local bucket keeps no versions: the released bytes are still there to deploy.
    expect((await head()).ETag).toBe(before.ETag);
  });

  it("prints the existing run when the same bytes are pushed again", async () => {
    await registered("hello");
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");
    const first = await sluice("push", file, "--app", "hello", "--version", "3.1.0");

    const again = await sluice("push", file, "--app", "hello", "--version", "3.1.0");

    expect(again.code).toBe(0);
    expect(runIdIn(again.stdout)).toBe(runIdIn(first.stdout));
  });

  it("uploads nothing for an app that is not registered", async () => {
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");

    const { code, stderr } = await sluice("push", file, "--app", "nobody", "--version", "1.0.0");

    expect(code).toBe(1);
    expect(stderr).toBe(
      'sluice: app "nobody" is not registered; register it first: sluice apps put nobody <definition-file>\n',
    );
    // Run through npm, the hint reads as the README's commands do.
    const viaNpm = await sluiceWith(
      { env: { npm_lifecycle_event: "sluice" } },
      ...["push", file, "--app", "nobody", "--version", "1.0.0"],
    );
    expect(viaNpm.stderr).toMatch(/register it first: npm run sluice -- apps put nobody /);
    const head = new S3Client({ forcePathStyle: true }).send(
      new HeadObjectCommand({ Bucket: stack.resources.releasesBucket, Key: "nobody/1.0.0.zip" }),
    );
    await expect(head).rejects.toMatchObject({ name: "NotFound" });
  });

  it("works as `npm run sluice` runs it, in a process of its own", async () => {
    await registered("hello");
    const file = await packDirectory(EXAMPLE, join(await tempDir(), "hello.zip"), "zip");

    const { stdout } = await promisify(execFile)(
      join(ROOT, "node_modules/.bin/tsx"),
      ["cli/sluice.ts", "push", file, "--app", "hello", "--version", "4.0.0", "--no-follow"],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          SLUICE_API: stack.endpoints.api,
          AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
        },
      },
    );

    const run = await api(stack, "GET", `/runs/${runIdIn(stdout)}`);
    expect(run.body.revision.key).toBe("hello/4.0.0.zip");
  });
});

describe("sluice runs, run and run start", () => {
  it("starts a run of a commit, lists it and shows its stage history", async () => {
    // Prepare
    await registered("shop");

    // Act
    const started = await sluice(
      "run",
      "start",
      "--app",
      "shop",
      "--commit",
      COMMIT,
      "--ref",
      "refs/heads/main",
    );
    const id = runIdIn(started.stdout) ?? "";
    await waitFor(async () =>
      (await api(stack, "GET", `/runs/${id}`)).body.status === "SUCCEEDED" ? true : undefined,
    );
    const listed = await sluice("runs", "--app", "shop");
    const shown = await sluice("run", id);

    // Assess
    expect(started.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+shop\\s+SUCCEEDED\\s+\\S+\\s+git refs/heads/main@0123456789ab`, "m"),
    );
    expect(shown.stdout).toContain(`run       ${id}  SUCCEEDED`);
    expect(shown.stdout).toMatch(/^ {2}source\s+SUCCEEDED /m);
  });

  it("fails with the API's message, on one line", async () => {
    const missing = await sluice("run", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    const badCommit = await sluice("run", "start", "--app", "shop", "--commit", "main");

    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toBe(
      "sluice: GET /runs/01ARZ3NDEKTSV4RRFFQ69G5FAV: 404 run 01ARZ3NDEKTSV4RRFFQ69G5FAV does not exist\n",
    );
    expect(badCommit.code).toBe(1);
    expect(badCommit.stderr).toMatch(
      /^sluice: POST \/apps\/shop\/runs: 400 .*commit must be a full hex sha\n$/,
    );
  });
});
