import { beforeEach, describe, expect, it } from "vitest";
import { type App, PipelineDefinitionSchema } from "../../domain/app";
import type { Clock } from "../../domain/ports";
import { deploymentChanged, startDeployment } from "../../usecases/deploy";
import { nextStep } from "../../usecases/next-step";
import { startRun } from "../../usecases/start-run";
import {
  MemoryApps,
  MemoryDeployments,
  MemoryDeploymentWaits,
  MemoryExecutions,
  MemoryQueue,
  MemoryRuns,
  steppingClock,
} from "../support/fakes";

const bundle = {
  type: "bundle" as const,
  bucket: "releases",
  key: "shop/1.0.0.tar.gz",
  etag: '"abc"',
  sha256: "a".repeat(64),
};

let ports: {
  apps: MemoryApps;
  runs: MemoryRuns;
  queue: MemoryQueue;
  executions: MemoryExecutions;
  deployments: MemoryDeployments;
  waits: MemoryDeploymentWaits;
  clock: Clock;
};

beforeEach(() => {
  ports = {
    apps: new MemoryApps(),
    runs: new MemoryRuns(),
    queue: new MemoryQueue(),
    executions: new MemoryExecutions(),
    deployments: new MemoryDeployments(),
    waits: new MemoryDeploymentWaits(),
    clock: steppingClock(),
  };
});

async function register(definition: unknown): Promise<App> {
  const at = "2026-01-01T00:00:00.000Z";
  const app = {
    name: "shop",
    pipeline: PipelineDefinitionSchema.parse(definition),
    createdAt: at,
    updatedAt: at,
  };
  await ports.apps.put(app);
  return app;
}

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
    await deploymentChanged(ports, deploymentId ?? "");

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
    await deploymentChanged(ports, deploymentId);

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
