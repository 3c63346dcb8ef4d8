import { beforeEach, describe, expect, it } from "vitest";
import type { App } from "../../domain/app";
import { alarmChanged, deploymentChanged, startDeployment, watchBake } from "../../usecases/deploy";
import { checkWave, holdWave } from "../../usecases/holds";
import { nextStep } from "../../usecases/next-step";
import { rollBack } from "../../usecases/rollback";
import { memoryPorts, registerApp, startRun } from "../support/fakes";

let ports: ReturnType<typeof memoryPorts>;

beforeEach(() => {
  ports = memoryPorts();
});

function register(definition: unknown): Promise<App> {
  return registerApp(ports.apps, definition);
}

const bundle = {
  type: "bundle" as const,
  bucket: "releases",
  key: "shop/1.0.0.tar.gz",
  etag: '"abc"',
  sha256: "a".repeat(64),
};

/** A run of the bundle, walked to its first deploy step. */
async function deploying() {
  const app = await register({
    codedeploy: { application: "shop-app" },
    stages: [
      {
        name: "beta",
        deploy: { deploymentGroup: "shop-beta", tests: { commands: ["curl -f $URL"] } },
      },
      {
        name: "production",
        production: {
          waves: [
            { name: "one-box", deploymentGroup: "shop-1", bakeMinutes: 30 },
            { deploymentGroup: "shop-rest", deploymentConfig: "CodeDeployDefault.HalfAtATime" },
          ],
        },
      },
    ],
  });
  const run = await startRun(ports, app, bundle, { type: "upload" });
  const source = await nextStep(ports, { runId: run.id, step: null });
  const { step } = await nextStep(ports, { runId: run.id, step: source.step, result: bundle });
  return { run, step };
}

describe("a deploy step", () => {
  it("comes from the definition's stages and waves, in order, with the app's CodeDeploy application", async () => {
    const { run } = await deploying();

    expect(run.plan.steps.map((s) => `${s.kind} ${s.id}`)).toEqual([
      "source source",
      "build build",
      "deploy beta",
      "test beta/tests",
      "deploy production/one-box",
      "bake production/one-box/bake",
      "deploy production/wave-2",
    ]);
    expect(run.plan.steps[6]).toMatchObject({
      application: "shop-app",
      deploymentGroup: "shop-rest",
      deploymentConfig: "CodeDeployDefault.HalfAtATime",
    });
  });

  it("deploys the run's bundle once, and resumes the run when CodeDeploy says it succeeded", async () => {
    const { run, step } = await deploying();
    expect(step).toMatchObject({ kind: "deploy", id: "beta" });
    const task = { runId: run.id, index: 2, attempt: 1, taskToken: "token-1" };

    await startDeployment(ports, task);
    await startDeployment(ports, { ...task, taskToken: "token-2" });
    const [deploymentId] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId ?? "", "Succeeded", [
      { id: "host-1", status: "Succeeded" },
      { id: "host-2", status: "Succeeded" },
    ]);
    await deploymentChanged(ports, deploymentId ?? "", {
      state: "SUCCESS",
      deploymentGroup: "shop-beta",
    });

    expect(ports.deployments.created).toEqual([
      expect.objectContaining({
        application: "shop-app",
        deploymentGroup: "shop-beta",
        deploymentConfig: "CodeDeployDefault.OneAtATime",
        revision: { bucket: "releases", key: "shop/1.0.0.tar.gz", etag: '"abc"' },
      }),
    ]);
    expect(ports.executions.callbacks).toEqual([
      {
        token: "token-2",
        output: {
          deploymentId,
          deploymentGroup: "shop-beta",
          status: "Succeeded",
          hosts: [
            { id: "host-1", status: "Succeeded" },
            { id: "host-2", status: "Succeeded" },
          ],
        },
      },
    ]);
  });

  it("takes a success from CodeDeploy's event, and a failure's error from the deployment", async () => {
    const { run } = await deploying();
    await startDeployment(ports, { runId: run.id, index: 2, attempt: 1, taskToken: "t" });
    const [deploymentId = ""] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId, "Succeeded", [{ id: "host-1", status: "Succeeded" }]);
    const readsBefore = ports.deployments.stateReads.length;

    await deploymentChanged(ports, deploymentId, {
      state: "SUCCESS",
      deploymentGroup: "shop-beta",
    });
    const afterSuccess = ports.deployments.stateReads.length;
    await deploymentChanged(ports, deploymentId, {
      state: "FAILURE",
      deploymentGroup: "shop-beta",
    });

    expect(afterSuccess).toBe(readsBefore);
    expect(ports.deployments.stateReads.length).toBe(readsBefore + 1);
    expect(ports.executions.callbacks[0]).toMatchObject({
      token: "t",
      output: { deploymentId, deploymentGroup: "shop-beta", status: "Succeeded" },
    });
  });

  it("fails the step as Sluice.DeploymentFailed, naming the hosts that failed and why", async () => {
    const { run } = await deploying();
    await startDeployment(ports, { runId: run.id, index: 2, attempt: 1, taskToken: "t" });
    const [deploymentId = ""] = ports.deployments.states.keys();

    ports.deployments.end(
      deploymentId,
      "Failed",
      [
        { id: "host-1", status: "Succeeded" },
        { id: "host-2", status: "Failed", failure: "ValidateService: script exited 1" },
      ],
      "too few healthy hosts",
    );
    await deploymentChanged(ports, deploymentId, {
      state: "FAILURE",
      deploymentGroup: "shop-beta",
    });

    expect(ports.executions.callbacks).toEqual([
      {
        token: "t",
        error: "Sluice.DeploymentFailed",
        cause: `deployment ${deploymentId} to shop-beta failed: too few healthy hosts; failed hosts: host-2 (ValidateService: script exited 1)`,
      },
    ]);
  });

  it("ignores a change of a deployment still in progress", async () => {
    const { run } = await deploying();
    await startDeployment(ports, { runId: run.id, index: 2, attempt: 1, taskToken: "t" });

    await deploymentChanged(ports, [...ports.deployments.states.keys()][0] ?? "");

    expect(ports.executions.callbacks).toEqual([]);
  });
});

describe("alarms of a wave", () => {
  async function wave(alarmState?: "ALARM" | "OK") {
    const app = await register({
      stages: [
        {
          name: "production",
          production: {
            waves: [{ deploymentGroup: "shop-1", bakeMinutes: 10, alarms: ["shop-5xx"] }],
          },
        },
      ],
    });
    if (alarmState) ports.alarms.stateOf.set("shop-5xx", alarmState);
    const run = await startRun(ports, app, bundle, { type: "upload" });
    const source = await nextStep(ports, { runId: run.id, step: null });
    await nextStep(ports, { runId: run.id, step: source.step, result: bundle });
    return run.id;
  }

  it("hold a wave whose alarm is in ALARM, and let it go when the alarm is OK again", async () => {
    const runId = await wave("ALARM");
    const task = { runId, index: 2, attempt: 1 };

    const check = await checkWave(ports, task);
    await holdWave(ports, { ...task, taskToken: "hold" });
    const held = await ports.runs.get(runId);
    ports.alarms.stateOf.set("shop-5xx", "OK");
    await alarmChanged(ports, "shop-5xx", "OK", "recovered");

    expect(check).toEqual({ held: true, seconds: 24 * 3600 });
    expect(held?.stages.at(-1)?.message).toBe("held: alarm shop-5xx in ALARM; it goes on once OK");
    expect(ports.executions.callbacks).toEqual([{ token: "hold", output: { released: true } }]);
    expect(await checkWave(ports, task)).toEqual({ held: false });
    expect(ports.watches.items.filter((w) => w.kind === "hold")).toEqual([]);
  });

  it("stop the wave's deployment when one goes to ALARM, failing it as Sluice.AlarmFired", async () => {
    const runId = await wave("OK");
    await startDeployment(ports, { runId, index: 2, attempt: 1, taskToken: "t" });

    await alarmChanged(ports, "shop-5xx", "ALARM", "5xx above 1%");

    const [deploymentId = ""] = ports.deployments.states.keys();
    expect((await ports.deployments.state(deploymentId)).status).toBe("Stopped");
    expect(ports.executions.callbacks).toEqual([
      {
        token: "t",
        error: "Sluice.AlarmFired",
        cause: "alarm shop-5xx stopped production/wave-1: 5xx above 1%",
      },
    ]);
  });

  it("fail a bake at once when one goes to ALARM during it", async () => {
    const runId = await wave("OK");
    await startDeployment(ports, { runId, index: 2, attempt: 1, taskToken: "d" });
    const [deploymentId = ""] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId, "Succeeded", [{ id: "h-1", status: "Succeeded" }]);
    await deploymentChanged(ports, deploymentId);
    const output = ports.executions.callbacks[0]?.output;
    const { step } = await nextStep(ports, {
      runId,
      step: { index: 2, attempt: 1 },
      result: output,
    });
    expect(step).toMatchObject({ kind: "bake", id: "production/wave-1/bake", seconds: 600 });

    await watchBake(ports, { runId, index: 3, attempt: 1, taskToken: "b" });
    await alarmChanged(ports, "shop-5xx", "ALARM", "latency");

    expect(ports.executions.callbacks.at(-1)).toEqual({
      token: "b",
      error: "Sluice.AlarmFired",
      cause: "alarm shop-5xx stopped production/wave-1/bake: latency",
    });
  });
});

describe("a rollback", () => {
  it("says so when the group's deployment was its first, and the run ends ROLLED_BACK", async () => {
    const { run } = await deploying();
    await startDeployment(ports, { runId: run.id, index: 2, attempt: 1, taskToken: "t" });
    const [deploymentId = ""] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId, "Failed", [{ id: "h-1", status: "Failed" }], "failed");

    const back = await rollBack(ports, {
      runId: run.id,
      step: { kind: "deploy", index: 2 },
      error: { Error: "Sluice.DeploymentFailed", Cause: "deployment failed" },
    });

    expect(back.step).toEqual({ kind: "rolledBack" });
    const ended = await ports.runs.get(run.id);
    expect(ended).toMatchObject({
      status: "ROLLED_BACK",
      error: { error: "Sluice.DeploymentFailed", cause: "deployment failed" },
    });
    expect(ended?.stages.find((s) => s.name === "beta")).toMatchObject({
      status: "FAILED",
      rollback: {
        status: "SKIPPED",
        message: "nothing to roll back to: this was the first deployment to shop-beta",
      },
    });
    expect(ports.runs.outbox.map((e) => e.detailType).slice(-3)).toEqual([
      "Stage Failed",
      "Rollback Started",
      "Run Rolled Back",
    ]);
    // The run's end tells how each group went back, for its audit trail.
    expect(ports.runs.outbox.at(-1)?.detail).toMatchObject({
      rollbacks: [
        {
          stage: "beta",
          status: "SKIPPED",
          message: "nothing to roll back to: this was the first deployment to shop-beta",
        },
      ],
    });
  });
});
