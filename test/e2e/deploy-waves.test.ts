import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { GetExecutionHistoryCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { HostView } from "../../local/codedeploy/local-codedeploy";
import { LOCAL_CREDENTIALS } from "../../local/stack";
import { expectEventsToMatchSchemaFiles } from "../support/event-schemas";
import { HELLO_FLEET, HELLO_GROUPS, releaseExample } from "../support/example-releases";
import { api, type FleetStack, startFleetStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/**
 * Each deployment's timeout: 10 hours, 36 s scaled. The default hour, 3.6 s scaled, is less
 * than five hosts take on a loaded machine, and these tests are not about deployment timeouts.
 */
const deadline = { timeoutMinutes: 600 };

let stack: FleetStack;
let workDir: string;
/** The run of the good revision, 2.0.0, that went everywhere. */
let goodRun: string;

beforeAll(async () => {
  stack = await startFleetStack("sluice-waves-", HELLO_FLEET, {
    // An hour's bake lasts 3.6 s: the one-box wave's 5 minutes 0.3 s (it bakes in every run
    // that gets past it, and how long is not what these tests check), and the 10 hours an
    // alarm cuts short 36 s.
    timing: { taskTimeoutScale: 0.001 },
    codedeploy: { hookTimeoutScale: 0.1 },
  });
  workDir = stack.workDir;
});
afterAll(() => stack?.cleanup());

function hosts(group: string): HostView[] {
  return stack.services.codedeploy.hosts().filter((h) => h.groups.includes(`hello/${group}`));
}

/** The definition: beta with a test against its host, gamma, and three production waves. */
function definition(production: { bakeMinutes: number; alarms?: string[] }) {
  const beta = hosts("beta")[0];
  return stringify({
    executionMode: "queued",
    stages: [
      {
        name: "beta",
        deploy: {
          deploymentGroup: "beta",
          ...deadline,
          tests: {
            commands: [
              `exec 3<>/dev/tcp/127.0.0.1/$BETA_PORT && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '"status":"ok"' <&3`,
            ],
            env: { BETA_PORT: String(beta?.port) },
          },
        },
      },
      { name: "gamma", deploy: { deploymentGroup: "gamma", ...deadline } },
      {
        name: "production",
        production: {
          waves: [
            { name: "one-box", deploymentGroup: "prod-1", ...deadline, ...production },
            {
              deploymentGroup: "prod-2",
              deploymentConfig: "CodeDeployDefault.HalfAtATime",
              ...deadline,
            },
            {
              deploymentGroup: "prod-3",
              deploymentConfig: "CodeDeployDefault.HalfAtATime",
              ...deadline,
            },
          ],
        },
      },
    ],
  });
}

const release = (version: string, validate = "") =>
  releaseExample(stack, workDir, version, validate);

async function ended(runId: string): Promise<Json> {
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${runId}`);
      return ["SUCCEEDED", "FAILED", "ROLLED_BACK", "STOPPED"].includes(body.status)
        ? body
        : undefined;
    },
    { what: `run ${runId} to end`, timeoutMs: 60_000, intervalMs: 100 },
  );
}

/** Every host's version, as it serves it now, by group; printed, as the issue asks. */
async function versions(scenario: string): Promise<Record<string, string[]>> {
  const served: Record<string, string[]> = {};
  for (const group of HELLO_GROUPS) {
    served[group] = await Promise.all(
      hosts(group).map(async (host) => {
        try {
          const res = await fetch(`${host.url}/health`, { signal: AbortSignal.timeout(2000) });
          return ((await res.json()) as { version: string }).version;
        } catch {
          return "down";
        }
      }),
    );
  }
  console.log(`per-host versions after ${scenario}:`, JSON.stringify(served));
  return served;
}

describe("a release through beta, gamma and three production waves over ten hosts", () => {
  it("deploys a good revision everywhere, wave by wave, and every host serves it", async () => {
    expect((await api(stack, "PUT", "/apps/hello", definition({ bakeMinutes: 5 }))).status).toBe(
      201,
    );

    goodRun = await release("2.0.0");
    const run = await ended(goodRun);

    expect(run.status, JSON.stringify(run.error)).toBe("SUCCEEDED");
    expect(run.stages.map((s: Json) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SKIPPED"],
      ["beta", "SUCCEEDED"],
      ["beta/tests", "SUCCEEDED"],
      ["gamma", "SUCCEEDED"],
      ["production/one-box", "SUCCEEDED"],
      ["production/one-box/bake", "SUCCEEDED"],
      ["production/wave-2", "SUCCEEDED"],
      ["production/wave-3", "SUCCEEDED"],
    ]);
    const wave3 = run.steps.find((s: Json) => s.step === "production/wave-3");
    expect(wave3.deployment.hosts).toHaveLength(5);
    expect(wave3.deployment.hosts.every((h: Json) => h.status === "Succeeded")).toBe(true);
    const served = await versions("a good revision");
    for (const group of HELLO_GROUPS) expect(served[group]?.every((v) => v === "2.0.0")).toBe(true);
  });

  it("shows the run's waves with host counts, its hosts' revisions, and the fleet's", async () => {
    const { body: run } = await api(stack, "GET", `/runs/${goodRun}`);
    const { body: fleet } = await api(stack, "GET", "/apps/hello/fleet");

    expect(
      run.waves.map((w: Json) => [w.step, w.group, w.config, w.status, w.bake?.status, w.hosts]),
    ).toEqual([
      [
        "production/one-box",
        "prod-1",
        "CodeDeployDefault.OneAtATime",
        "SUCCEEDED",
        "SUCCEEDED",
        { total: 1, succeeded: 1, failed: 0, other: 0 },
      ],
      [
        "production/wave-2",
        "prod-2",
        "CodeDeployDefault.HalfAtATime",
        "SUCCEEDED",
        undefined,
        { total: 4, succeeded: 4, failed: 0, other: 0 },
      ],
      [
        "production/wave-3",
        "prod-3",
        "CodeDeployDefault.HalfAtATime",
        "SUCCEEDED",
        undefined,
        { total: 5, succeeded: 5, failed: 0, other: 0 },
      ],
    ]);
    expect(run.waves.every((w: Json) => /^d-/.test(w.deploymentId))).toBe(true);
    expect(run.hosts).toHaveLength(12);
    expect(run.hosts.every((h: Json) => h.status === "Succeeded" && h.version === "2.0.0")).toBe(
      true,
    );
    const waveEvents = run.timeline
      .filter((e: Json) => e.detailType.startsWith("Wave "))
      .map((e: Json) => [e.detailType, e.detail.wave]);
    expect(waveEvents).toEqual([
      ["Wave Started", "production/one-box"],
      ["Wave Baking", "production/one-box"],
      ["Wave Succeeded", "production/one-box"],
      ["Wave Started", "production/wave-2"],
      ["Wave Succeeded", "production/wave-2"],
      ["Wave Started", "production/wave-3"],
      ["Wave Succeeded", "production/wave-3"],
    ]);
    expect(run.timeline.map((e: Json) => e.sequence)).toEqual(
      run.timeline.map((_: Json, i: number) => i + 1),
    );
    expect(fleet.groups.map((g: Json) => [g.deploymentGroup, g.steps])).toEqual([
      ["beta", ["beta"]],
      ["gamma", ["gamma"]],
      ["prod-1", ["production/one-box"]],
      ["prod-2", ["production/wave-2"]],
      ["prod-3", ["production/wave-3"]],
    ]);
    for (const group of fleet.groups) {
      expect(group.hosts.map((h: Json) => h.id).sort()).toEqual(
        hosts(group.deploymentGroup)
          .map((h) => h.name)
          .sort(),
      );
      expect(group.hosts.every((h: Json) => h.revision?.version === "2.0.0")).toBe(true);
    }
  });

  it("rolls back every stage and wave it touched when ValidateService fails on wave 2", async () => {
    const fail = 'if [ "$DEPLOYMENT_GROUP_NAME" = prod-2 ]; then echo "unhealthy" >&2; exit 1; fi';

    const run = await ended(await release("3.0.0", fail));

    expect(run.status).toBe("ROLLED_BACK");
    expect(run.error.error).toBe("Sluice.DeploymentFailed");
    expect(run.error.cause).toContain("ValidateService");
    expect(run.stages.find((s: Json) => s.name === "production/wave-2").status).toBe("FAILED");
    expect(run.stages.some((s: Json) => s.name === "production/wave-3")).toBe(false);
    // Newest first: wave 2 (which failed half-way), the one-box wave, gamma, beta.
    const rolledBack = run.steps
      .filter((s: Json) => s.rollback?.status === "SUCCEEDED")
      .map((s: Json) => s.step);
    expect(rolledBack.sort()).toEqual(["beta", "gamma", "production/one-box", "production/wave-2"]);
    const served = await versions("a revision failing ValidateService on wave 2, rolled back");
    for (const group of HELLO_GROUPS) expect(served[group]?.every((v) => v === "2.0.0")).toBe(true);
  });

  it("fails a bake within seconds of its alarm going to ALARM", async () => {
    const cloudWatch = new CloudWatchClient({
      endpoint: stack.endpoints.cloudwatch,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
    });
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "hello-5xx",
        Namespace: "Hello",
        MetricName: "5xx",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    );
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: "hello-5xx", StateValue: "OK", StateReason: "fine" }),
    );
    const definitionWithAlarm = definition({ bakeMinutes: 600, alarms: ["hello-5xx"] });
    expect((await api(stack, "PUT", "/apps/hello", definitionWithAlarm)).status).toBe(200);
    const runId = await release("4.0.0");
    await waitFor(
      async () => {
        const { body } = await api(stack, "GET", `/runs/${runId}`);
        const bake = body.stages.find((s: Json) => s.name === "production/one-box/bake");
        return bake?.status === "RUNNING" ? true : undefined;
      },
      { what: "the one-box wave's bake", timeoutMs: 60_000 },
    );

    const fired = Date.now();
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: "hello-5xx",
        StateValue: "ALARM",
        StateReason: "5xx on the one-box host",
      }),
    );
    const run = await ended(runId);

    expect(Date.now() - fired).toBeLessThan(15_000);
    expect(run.status).toBe("ROLLED_BACK");
    // Its reason when the change came during the bake; "it is in ALARM" when the bake's task
    // looked at the alarm after the change, a moment after the bake began.
    expect(run.error).toEqual({
      error: "Sluice.AlarmFired",
      cause: expect.stringMatching(
        /^alarm hello-5xx stopped production\/one-box\/bake: (5xx on the one-box host|it is in ALARM)$/,
      ),
    });
    const served = await versions("an alarm during the one-box bake, rolled back");
    for (const group of HELLO_GROUPS) expect(served[group]?.every((v) => v === "2.0.0")).toBe(true);
  });

  it("rolls back what a run deployed when it is stopped while it waits for its approval", async () => {
    const gated = stringify({
      executionMode: "queued",
      stages: [
        { name: "beta", deploy: { deploymentGroup: "beta", ...deadline } },
        { name: "sign-off", approval: {} },
        { name: "production", production: { waves: [{ deploymentGroup: "prod-1", ...deadline }] } },
      ],
    });
    expect([200, 201]).toContain((await api(stack, "PUT", "/apps/hello", gated)).status);
    const runId = await release("5.0.0");
    await waitFor(
      async () => {
        const { body } = await api(stack, "GET", `/runs/${runId}`);
        return body.stages.find((s: Json) => s.name === "sign-off")?.status === "RUNNING"
          ? true
          : undefined;
      },
      { what: "the approval", timeoutMs: 30_000 },
    );
    // Stopped once the approval's task has handed its token over and the execution waits on it.
    const sfn = new SFNClient({});
    const executionArn = (await api(stack, "GET", `/runs/${runId}`)).body.executionArn;
    await waitFor(async () => {
      const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      const approval = events.filter((e) => e.type === "TaskSubmitted").length;
      return approval >= 2 ? true : undefined;
    });
    const stopped = await api(stack, "POST", `/runs/${runId}/stop`, { reason: "wrong version" });
    expect(stopped.status).toBe(200);

    const run = await ended(runId);

    expect(run.status).toBe("ROLLED_BACK");
    expect(run.error).toEqual({
      error: "Sluice.Stopped",
      cause: "stopped by anonymous: wrong version",
    });
    expect(run.stages.find((s: Json) => s.name === "beta").rollback.status).toBe("SUCCEEDED");
    // Who stopped it stays in its audit trail, though it ended rolled back, not stopped.
    const trail = (await api(stack, "GET", `/runs/${runId}/audit`)).body.entries;
    expect(trail.filter((e: Json) => e.kind === "action")).toEqual([
      expect.objectContaining({ type: "stop", by: "anonymous", reason: "wrong version" }),
    ]);
    expect(trail[0]).toMatchObject({ kind: "event", type: "Run Rolled Back" });
    // Its end says how each group went back.
    expect(trail[0].summary).toMatch(/; beta: rolled back to \S+ by deployment d-\w+/);
    const served = await versions("a stop during the approval, rolled back");
    expect(served.beta).toEqual(["2.0.0"]);
  });

  it("sends only events its schema files describe: waves, rollbacks, an approval, a stop", async () => {
    const checked = await expectEventsToMatchSchemaFiles(stack);

    expect([...checked]).toEqual(
      expect.arrayContaining([
        "Wave Started",
        "Wave Baking",
        "Wave Succeeded",
        "Rollback Started",
        "Run Rolled Back",
        "Stage Failed",
        "Approval Requested",
      ]),
    );
  });
});
