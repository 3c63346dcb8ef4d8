import { beforeEach, describe, expect, it } from "vitest";
import type { App } from "../../domain/app";
import { PipelineDefinitionSchema } from "../../domain/app";
import { ConflictError } from "../../domain/errors";
import { decideApproval } from "../../usecases/approval";
import { nextStep } from "../../usecases/next-step";
import { REDRIVE_ACTOR, retryRun, stopRun } from "../../usecases/run-control";
import { executionEnded } from "../../usecases/run-queue";
import { memoryPorts, registerApp, startRun } from "../support/fakes";

let ports: ReturnType<typeof memoryPorts>;

beforeEach(() => {
  ports = memoryPorts();
});

function register(definition: unknown): Promise<App> {
  return registerApp(ports.apps, definition);
}

const revision = { type: "git" as const, commit: "a".repeat(40) };
const trigger = { type: "api" as const };

const soakThenApprove = {
  stages: [
    { name: "soak", wait: { minutes: 2 } },
    { name: "sign-off", approval: { timeoutMinutes: 60 } },
  ],
};

describe("a run's plan", () => {
  it("is its app's stages in order, after source and build, as they were when it was made", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);
    await register({ stages: [] });

    const stored = await ports.runs.get(run.id);

    expect(stored?.plan.steps).toEqual([
      { id: "source", kind: "source" },
      { id: "build", kind: "build", skip: "app shop has no build configured" },
      { id: "soak", kind: "wait", seconds: 120 },
      {
        id: "sign-off",
        kind: "approval",
        timeoutSeconds: 3600,
        approvers: [],
        requiredApprovals: 1,
        forbidSelfApproval: false,
        slack: true,
        email: true,
      },
    ]);
  });

  it("refuses stage names used twice, or taken by the run's own steps, naming the path", () => {
    const parsed = PipelineDefinitionSchema.safeParse({
      stages: [
        { name: "soak", wait: { minutes: 1 } },
        { name: "soak", wait: { minutes: 2 } },
        { name: "build", approval: {} },
      ],
    });

    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["stages.1.name", "stages.2.name"]));
  });
});

describe("walking the plan", () => {
  it("records each step's start and end with its events, and ends the run after the last", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);

    const source = await nextStep(ports, { runId: run.id, step: null });
    const wait = await nextStep(ports, { runId: run.id, step: source.step, result: revision });
    const approval = await nextStep(ports, { runId: run.id, step: wait.step });

    expect(source.step).toMatchObject({ kind: "source", id: "source", index: 0, attempt: 1 });
    expect(wait.step).toMatchObject({ kind: "wait", id: "soak", index: 2 });
    expect(approval.step).toMatchObject({ kind: "approval", id: "sign-off", timeoutSeconds: 3600 });
    const during = await ports.runs.get(run.id);
    expect(during?.stages.map((s) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SKIPPED"],
      ["soak", "SUCCEEDED"],
      ["sign-off", "RUNNING"],
    ]);
    const soak = during?.stages.find((s) => s.name === "soak");
    expect(Date.parse(soak?.until ?? "") - Date.parse(during?.steps[2]?.startedAt ?? "")).toBe(
      120_000,
    );

    const decision = { decision: "approve", by: "ana", at: "2026-01-01T00:10:00.000Z" };
    const done = await nextStep(ports, { runId: run.id, step: approval.step, result: decision });

    expect(done.step).toEqual({ kind: "done" });
    const ended = await ports.runs.get(run.id);
    expect(ended?.status).toBe("SUCCEEDED");
    expect(ended?.stages.at(-1)).toMatchObject({ status: "SUCCEEDED", message: "approved by ana" });
    expect(ports.runs.outbox.map((e) => e.detailType)).toEqual([
      "Run Queued",
      "Run Started",
      "Stage Started",
      "Stage Succeeded",
      "Stage Skipped",
      "Stage Started",
      "Stage Succeeded",
      "Stage Started",
      "Stage Succeeded",
      "Run Succeeded",
    ]);
  });

  it("answers a retried call for a step it moved past with the same next step, writing nothing", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);
    const source = await nextStep(ports, { runId: run.id, step: null });
    const first = await nextStep(ports, { runId: run.id, step: source.step, result: revision });
    const written = ports.runs.outbox.length;

    const again = await nextStep(ports, { runId: run.id, step: source.step, result: revision });

    expect(again).toEqual(first);
    expect(ports.runs.outbox.length).toBe(written);
  });
});

describe("an approval", () => {
  async function waitingForApproval() {
    const app = await register({ stages: [{ name: "sign-off", approval: {} }] });
    const run = await startRun(ports, app, revision, trigger);
    const source = await nextStep(ports, { runId: run.id, step: null });
    const { step } = await nextStep(ports, { runId: run.id, step: source.step, result: revision });
    if (step.kind !== "approval") throw new Error(`expected an approval, got ${step.kind}`);
    await ports.runs.putTaskToken(run.id, step.index, step.attempt, "token-1");
    return run.id;
  }

  it("resumes the run's task with the approver's decision, once", async () => {
    const runId = await waitingForApproval();

    await decideApproval(
      ports,
      runId,
      { via: "api", principal: "ana" },
      { decision: "approve", comment: "ship it" },
    );

    expect(ports.executions.callbacks).toEqual([
      {
        token: "token-1",
        output: expect.objectContaining({ decision: "approve", by: "ana", comment: "ship it" }),
      },
    ]);
    await expect(
      decideApproval(ports, runId, { via: "api", principal: "bo" }, { decision: "reject" }),
    ).rejects.toThrow(/already decided by ana/);
    // The later call resumes the task again with ana's decision, in case the first resumption
    // was lost after its write; Step Functions ignores an answer to a task already answered.
    expect(ports.executions.callbacks.map((c) => c.output)).toEqual([
      expect.objectContaining({ decision: "approve", by: "ana" }),
      expect.objectContaining({ decision: "approve", by: "ana" }),
    ]);
  });

  it("fails the task as Sluice.Rejected when rejected, naming who and why", async () => {
    const runId = await waitingForApproval();

    await decideApproval(
      ports,
      runId,
      { via: "api", principal: "bo" },
      { decision: "reject", comment: "not today" },
    );

    expect(ports.executions.callbacks).toEqual([
      { token: "token-1", error: "Sluice.Rejected", cause: "rejected by bo: not today" },
    ]);
  });

  it("refuses a decision on a run that waits for no approval", async () => {
    const app = await register({});
    const run = await startRun(ports, app, revision, trigger);
    await nextStep(ports, { runId: run.id, step: null });

    await expect(
      decideApproval(ports, run.id, { via: "api", principal: "ana" }, { decision: "approve" }),
    ).rejects.toThrow(ConflictError);
  });
});

describe("stop and retry", () => {
  it("stops a running run, recording who and why, and frees its app's slot", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);
    await nextStep(ports, { runId: run.id, step: null });

    const stopped = await stopRun(ports, run.id, "ana", { reason: "bad config" });

    expect(stopped).toMatchObject({
      status: "STOPPED",
      stopRequest: { by: "ana", reason: "bad config" },
      error: { error: "Sluice.Stopped", cause: "stopped by ana: bad config" },
    });
    expect(stopped.stages[0]).toMatchObject({ name: "source", status: "STOPPED" });
    expect(await ports.executions.status(ports.executions.arnOf(run.id))).toBe("ABORTED");
    expect(await ports.queue.holder("shop")).toBeUndefined();
  });

  it("retries a failed run from the step it failed in, as a new attempt, recorded with who and why", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);
    const source = await nextStep(ports, { runId: run.id, step: null });
    await nextStep(ports, { runId: run.id, step: source.step, result: revision });
    ports.executions.end(run.id, "FAILED");
    await executionEnded(ports, run.id, { status: "FAILED", error: "States.Timeout", cause: "" });

    const retried = await retryRun(ports, run.id, "ana", { reason: "flaky soak" });

    expect(retried).toMatchObject({ status: "RUNNING", attempt: 2 });
    expect(retried.retries).toEqual([expect.objectContaining({ by: "ana", attempt: 2 })]);
    expect(
      retried.steps.filter((s) => s.step === "soak").map((s) => [s.attempt, s.status]),
    ).toEqual([
      [1, "FAILED"],
      [2, "RUNNING"],
    ]);
    expect(await ports.executions.status(ports.executions.arnOf(run.id))).toBe("RUNNING");
    expect(await ports.queue.holder("shop")).toBe(run.id);
  });

  it("refuses to retry a run while another run of a queued app holds its slot", async () => {
    const app = await register({});
    const failed = await startRun(ports, app, revision, trigger);
    await nextStep(ports, { runId: failed.id, step: null });
    ports.executions.end(failed.id, "FAILED");
    await executionEnded(ports, failed.id, { status: "FAILED", error: "Sluice.Transient" });
    const running = await startRun(ports, app, revision, trigger);

    await expect(retryRun(ports, failed.id, "ana", {})).rejects.toThrow(
      new RegExp(`running ${running.id}`),
    );
    expect((await ports.runs.get(failed.id))?.status).toBe("FAILED");
  });

  it("goes on as a retry when its execution is redriven outside Sluice", async () => {
    const app = await register(soakThenApprove);
    const run = await startRun(ports, app, revision, trigger);
    const source = await nextStep(ports, { runId: run.id, step: null });
    ports.executions.end(run.id, "FAILED");
    await executionEnded(ports, run.id, { status: "FAILED", error: "Sluice.Transient" });

    await ports.executions.redrive(ports.executions.arnOf(run.id));
    const next = await nextStep(ports, { runId: run.id, step: source.step, result: revision });

    expect(next.step).toMatchObject({ kind: "wait", id: "soak", attempt: 2 });
    const reopened = await ports.runs.get(run.id);
    expect(reopened).toMatchObject({ status: "RUNNING", attempt: 2 });
    expect(reopened?.retries).toEqual([expect.objectContaining({ by: REDRIVE_ACTOR, attempt: 2 })]);
    expect(reopened?.stages[0]).toMatchObject({ name: "source", status: "SUCCEEDED", attempt: 2 });
  });
});
