import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  ListDeploymentsCommand,
} from "@aws-sdk/client-codedeploy";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetExecutionHistoryCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { create as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import { LOCAL_CREDENTIALS, PROJECT_ROOT } from "../../local/stack";
import { api, type FleetStack, startFleetStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/** One CodeDeploy application whose `prod` group two apps (web and jobs) both deploy to. */
const FLEET = `
applications:
  shared:
    groups:
      prod: { hosts: 2, deploymentConfig: CodeDeployDefault.AllAtOnce }
`;

let stack: FleetStack;
let workDir: string;
const clientOptions = () => ({ region: "us-east-1", credentials: LOCAL_CREDENTIALS });

beforeAll(async () => {
  // Leases of seconds, so a lease runs out while its deployment still goes on (and is kept).
  process.env.SLUICE_LOCK_LEASE_SECONDS = "3";
  stack = await startFleetStack("sluice-operate-", FLEET, {
    codedeploy: { hookTimeoutScale: 0.1 },
  });
  workDir = stack.workDir;
});
afterAll(() => stack?.cleanup());

/** App `app`'s pipeline: one production wave on shared/prod. */
function definition(wave: Record<string, unknown> = {}) {
  return stringify({
    executionMode: "queued",
    codedeploy: { application: "shared" },
    stages: [{ name: "production", production: { waves: [{ deploymentGroup: "prod", ...wave }] } }],
  });
}

async function register(app: string, wave: Record<string, unknown> = {}) {
  const { status, body } = await api(stack, "PUT", `/apps/${app}`, definition(wave));
  expect([200, 201], JSON.stringify(body)).toContain(status);
}

/** Uploads the example service as `app`'s `version`, `validate` first in ValidateService. */
async function release(app: string, version: string, validate = ""): Promise<string> {
  const dir = path.join(workDir, `${app}-${version}`);
  await mkdir(dir);
  await cp(path.join(PROJECT_ROOT, "examples/hello-service"), dir, { recursive: true });
  await writeFile(path.join(dir, "VERSION"), `${version}\n`);
  const script = path.join(dir, "scripts/validate.sh");
  const lines = (await readFile(script, "utf8")).split("\n");
  await writeFile(script, [lines[0], validate, ...lines.slice(1)].join("\n"));
  const file = path.join(workDir, `${app}-${version}.tar.gz`);
  await createTar({ gzip: true, file, cwd: dir, portable: true }, ["."]);
  const s3 = new S3Client({
    ...clientOptions(),
    endpoint: stack.endpoints.s3,
    forcePathStyle: true,
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: stack.resources.releasesBucket,
      Key: `${app}/${version}.tar.gz`,
      Body: await readFile(file),
    }),
  );
  return waitFor(async () => {
    const { body } = await api(stack, "GET", `/apps/${app}/bundles/${version}`);
    return body.release?.runId;
  });
}

async function run(runId: string): Promise<Json> {
  return (await api(stack, "GET", `/runs/${runId}`)).body;
}

async function ended(runId: string): Promise<Json> {
  return waitFor(
    async () => {
      const body = await run(runId);
      return ["SUCCEEDED", "FAILED", "ROLLED_BACK", "STOPPED"].includes(body.status)
        ? body
        : undefined;
    },
    { what: `run ${runId} to end`, timeoutMs: 60_000, intervalMs: 100 },
  );
}

/** The wave's stage (or another), once its message matches. */
function waveSays(runId: string, pattern: RegExp, stage = "production/wave-1"): Promise<Json> {
  return waitFor(
    async () => {
      const found = (await run(runId)).stages.find((s: Json) => s.name === stage);
      return found?.status === "RUNNING" && pattern.test(found.message ?? "") ? found : undefined;
    },
    { what: `${stage} of ${runId} to say ${pattern}`, timeoutMs: 30_000, intervalMs: 50 },
  );
}

/**
 * The lifecycle events on the bus, as the local event log holds them, once `count` are there:
 * the outbox publishes them after the change that made them, so a run can end first.
 */
async function events(detailType: string, runId?: string, count = 1): Promise<Json[]> {
  let seen = 0;
  return waitFor(
    async () => {
      const text = await readFile(path.join(stack.stateDir, "events.jsonl"), "utf8");
      const found = text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((e) => e["detail-type"] === detailType)
        .map((e) => e.detail)
        .filter((detail) => !runId || detail.runId === runId);
      seen = found.length;
      return found.length >= count ? found : undefined;
    },
    { what: `${count} ${detailType} event(s) on the bus` },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (${seen} there)`, { cause: err });
  });
}

/** The CLI as an operator runs it against the local stack. */
async function sluice(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["--api", stack.endpoints.api, ...args], {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: {},
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** How many times the run's execution entered a state. */
async function entered(runId: string, state: string): Promise<number> {
  const sfn = new SFNClient({ ...clientOptions(), endpoint: stack.endpoints.stepFunctions });
  const { events = [] } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: (await run(runId)).executionArn }),
  );
  return events.filter((e) => e.stateEnteredEventDetails?.name === state).length;
}

describe("holds, overrides, freezes and locks of production waves", { timeout: 60_000 }, () => {
  it("holds a wave outside its window and with its alarm in ALARM until an operator lets it go", async () => {
    const cloudWatch = new CloudWatchClient({
      ...clientOptions(),
      endpoint: stack.endpoints.cloudwatch,
    });
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "web-5xx",
        Namespace: "Web",
        MetricName: "5xx",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    );
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: "web-5xx", StateValue: "ALARM", StateReason: "bug" }),
    );
    // New Year's first minute only: closed now.
    const window = { cron: "0 0 1 1 *", timeZone: "UTC", durationMinutes: 1 };
    await register("web", { window, alarms: ["web-5xx"], bakeMinutes: 600 });
    const runId = await release("web", "1.0.0");

    const held = await waveSays(runId, /^held: /);
    const refused = await sluice("override", runId, "--reason", "  ");
    const let_go = await sluice("override", runId, "--reason", "the fix for web-5xx");
    const baking = await waveSays(runId, /^$/, "production/wave-1/bake");
    const cut = await sluice("override", runId, "--bake", "--reason", "the fix is out, 5xx gone");
    const done = await ended(runId);

    const newYear = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`;
    expect(held.message).toBe(
      `held: outside its deployment window (0 0 1 1 * UTC, 1 min); it opens at ${newYear}; alarm web-5xx in ALARM; it goes on once OK`,
    );
    expect(held.hold.blockers.map((b: Json) => b.kind)).toEqual(["window", "alarm"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("say why");
    expect(let_go).toMatchObject({ code: 0 });
    // Who: the caller's identity as the API authenticated it (the local key pair's id here).
    const by = /let go by (\S+) /.exec(let_go.stdout)?.[1];
    expect(let_go.stdout).toBe(`run ${runId}: let go by ${by} (${held.message.slice(6)})\n`);
    expect(baking.status).toBe("RUNNING");
    expect(cut.stdout).toBe(`run ${runId}: bake cut short by ${by}\n`);
    // Deployed and baked while web-5xx was still in ALARM: the override let that alarm go.
    expect(done.status, JSON.stringify(done.error)).toBe("SUCCEEDED");
    const wave = done.steps.find((s: Json) => s.step === "production/wave-1");
    expect(wave.overrides).toEqual([
      {
        by,
        reason: "the fix for web-5xx",
        at: expect.any(String),
        what: "hold",
        lifted: held.hold.blockers,
      },
    ]);
    const bake = done.steps.find((s: Json) => s.step === "production/wave-1/bake");
    expect(bake.overrides[0]).toMatchObject({ what: "bake", reason: "the fix is out, 5xx gone" });
    expect((await events("Wave Held", runId))[0]).toMatchObject({
      stage: "production/wave-1",
      blockers: held.hold.blockers,
    });
    expect((await events("Wave Overridden", runId, 2)).map((e) => e.override.what)).toEqual([
      "hold",
      "bake",
    ]);
    // One hold, resumed by the override: no polling while it waited.
    expect(await entered(runId, "Hold")).toBe(1);
  });

  it("holds production while the app is frozen, and lets it go the moment the freeze is lifted", async () => {
    await register("web");
    const frozen = await sluice("freeze", "web", "--until", "2d", "--reason", "holiday freeze");
    const runId = await release("web", "1.1.0");

    const held = await waveSays(runId, /^held: app web is frozen/);
    const shown = await api(stack, "GET", "/apps/web/freeze");
    const lifted = await sluice("unfreeze", "web", "--reason", "an urgent fix");
    const liftedAt = Date.now();
    const done = await ended(runId);

    expect(frozen.stdout).toMatch(/^app web frozen until \S+ by \S+\n$/);
    expect(held.message).toMatch(/^held: app web is frozen until \S+ by \S+: holiday freeze$/);
    expect(shown).toMatchObject({ status: 200, body: { app: "web", reason: "holiday freeze" } });
    expect(held.until).toBe(shown.body.until);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect((await api(stack, "GET", "/apps/web/freeze")).status).toBe(404);
    expect(done.status).toBe("SUCCEEDED");
    // Released by the lift at once, not by the hold's timer two days on.
    expect(Date.now() - liftedAt).toBeLessThan(15_000);
    expect(await events("App Unfrozen")).toEqual([
      expect.objectContaining({
        app: "web",
        liftReason: "an urgent fix",
        reason: "holiday freeze",
      }),
    ]);
  });

  it("lets a freeze's waves go when it expires, by the hold's own timer", async () => {
    const until = new Date(Date.now() + 5_000).toISOString();
    expect((await sluice("freeze", "web", "--until", until, "--reason", "brief")).code).toBe(0);
    const runId = await release("web", "1.2.0");

    await waveSays(runId, /^held: app web is frozen/);
    const done = await ended(runId);

    expect(done.status).toBe("SUCCEEDED");
    const wave = done.steps.find((s: Json) => s.step === "production/wave-1");
    expect(Date.parse(wave.endedAt)).toBeGreaterThanOrEqual(Date.parse(until));
    expect(await entered(runId, "Hold")).toBe(1);
  });

  it("never deploys two apps' runs to their shared group at once; the waiting one names the holder", async () => {
    await register("web");
    await register("jobs");
    const codeDeploy = new CodeDeployClient({
      ...clientOptions(),
      endpoint: stack.endpoints.codedeploy,
    });
    const active = async () =>
      (
        await codeDeploy.send(
          new ListDeploymentsCommand({
            applicationName: "shared",
            deploymentGroupName: "prod",
            includeOnlyStatuses: ["Created", "Queued", "InProgress"],
          }),
        )
      ).deployments ?? [];
    const slow = "sleep 1";
    const [web, jobs] = await Promise.all([
      release("web", "2.0.0", slow),
      release("jobs", "2.0.0", slow),
    ]);

    let most = 0;
    let waiting: { runId: string; message: string } | undefined;
    const sampled = waitFor(
      async () => {
        most = Math.max(most, (await active()).length);
        for (const [me, other] of [
          [web, jobs],
          [jobs, web],
        ] as const) {
          const message = (await run(me)).stages.find(
            (s: Json) => s.name === "production/wave-1",
          )?.message;
          if (message?.includes(`is locked by run ${other}`)) waiting ??= { runId: me, message };
        }
        const statuses = await Promise.all([web, jobs].map(async (id) => (await run(id)).status));
        return statuses.every((s) => s !== "RUNNING" && s !== "QUEUED") ? statuses : undefined;
      },
      { what: "both runs to end", timeoutMs: 90_000, intervalMs: 50 },
    );
    const statuses = await sampled;

    expect(statuses).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(most).toBe(1);
    expect(waiting?.message).toMatch(/^held: deployment group shared\/prod is locked by run /);
    // The two deployments, one after the other.
    const ids = await Promise.all(
      [web, jobs].map(
        async (id) =>
          (await run(id)).steps.find((s: Json) => s.step === "production/wave-1").deploymentId,
      ),
    );
    const { deploymentsInfo = [] } = await codeDeploy.send(
      new BatchGetDeploymentsCommand({ deploymentIds: ids }),
    );
    const [first, second] = deploymentsInfo.sort(
      (a, b) => (a.createTime?.getTime() ?? 0) - (b.createTime?.getTime() ?? 0),
    );
    expect(first?.completeTime?.getTime()).toBeLessThanOrEqual(second?.createTime?.getTime() ?? 0);
    const held = await events("Wave Held", waiting?.runId);
    expect(held.some((e) => e.blockers[0].kind === "lock")).toBe(true);
  });

  it("frees a group whose holder died once its lease runs out", async () => {
    // A holder that never renews: a run that died mid-deploy, as its lease item shows it.
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ ...clientOptions(), endpoint: stack.endpoints.dynamodb }),
    );
    const leaseUntil = new Date(Date.now() + 6_000).toISOString();
    await doc.send(
      new PutCommand({
        TableName: stack.resources.table,
        Item: {
          pk: "LOCK#shared#prod",
          sk: "LOCK",
          application: "shared",
          deploymentGroup: "prod",
          holder: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
          app: "ghost",
          step: "production/wave-1",
          leaseUntil,
        },
      }),
    );
    const runId = await release("jobs", "2.1.0");

    const held = await waveSays(runId, /is locked by run 01JZZZZZZZZZZZZZZZZZZZZZZZ/);
    const done = await ended(runId);

    expect(held.until).toBe(leaseUntil);
    expect(done.status).toBe("SUCCEEDED");
    const wave = done.steps.find((s: Json) => s.step === "production/wave-1");
    expect(Date.parse(wave.endedAt)).toBeGreaterThanOrEqual(Date.parse(leaseUntil));
  });
});
