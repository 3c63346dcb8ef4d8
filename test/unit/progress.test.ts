import { describe, expect, it } from "vitest";
import { ConflictError } from "../../domain/errors";
import { LIFECYCLE_EVENTS } from "../../domain/lifecycle-events";
import { type Progress, ProgressSchema, planProgress } from "../../domain/progress";
import type { RunStatus, RunView } from "../../domain/run";

const NOW = "2026-02-02T10:00:00.000Z";

function run(status: RunStatus, stages: RunView["stages"] = []): RunView {
  return {
    id: "01J00000000000000000000000",
    app: "shop",
    status,
    revision: { type: "git", commit: "a".repeat(40) },
    trigger: { type: "api" },
    createdAt: "2026-02-02T09:59:00.000Z",
    updatedAt: "2026-02-02T09:59:00.000Z",
    stages,
  };
}

describe("planProgress", () => {
  it("starts a queued run, keeping the first start time when a retry repeats the step", () => {
    const first = planProgress(run("QUEUED"), { type: "RunStarted" }, NOW);
    const repeated = planProgress(
      { ...run("RUNNING"), startedAt: NOW },
      { type: "RunStarted" },
      "2026-02-02T10:00:05.000Z",
    );

    expect(first.run).toMatchObject({ status: "RUNNING", startedAt: NOW });
    expect(first.event.detailType).toBe("Run Started");
    expect(repeated.run?.startedAt).toBe(NOW);
  });

  it.each<[RunStatus, Progress]>([
    ["SUCCEEDED", { type: "RunStarted" }],
    ["FAILED", { type: "RunSucceeded" }],
    ["SUPERSEDED", { type: "StageStarted", stage: "build" }],
    ["QUEUED", { type: "StageStarted", stage: "build" }],
  ])("refuses to move a %s run with %o", (status, progress) => {
    expect(() => planProgress(run(status), progress, NOW)).toThrow(ConflictError);
  });

  it("records a stage from start to success, keeping its start time", () => {
    const started = planProgress(run("RUNNING"), { type: "StageStarted", stage: "source" }, NOW);
    const ended = planProgress(
      run("RUNNING", started.stage ? [started.stage] : []),
      { type: "StageSucceeded", stage: "source", message: "pinned" },
      "2026-02-02T10:00:02.000Z",
    );

    expect(ended.stage).toEqual({
      name: "source",
      status: "SUCCEEDED",
      startedAt: NOW,
      endedAt: "2026-02-02T10:00:02.000Z",
      message: "pinned",
    });
    expect(ended.run).toBeUndefined();
    expect(ended.event.detailType).toBe("Stage Succeeded");
  });

  it("will not end a stage that never started", () => {
    expect(() =>
      planProgress(run("RUNNING"), { type: "StageSucceeded", stage: "beta" }, NOW),
    ).toThrow(/never started/);
  });

  it("turns a Lambda task's JSON cause into its error message", () => {
    const progress = {
      type: "RunFailed",
      error: {
        Error: "NotFoundError",
        Cause: JSON.stringify({ errorType: "NotFoundError", errorMessage: "bundle is gone" }),
      },
    };
    const parsed = planProgress(run("RUNNING"), ProgressSchema.parse(progress), NOW);

    expect(parsed.run?.status).toBe("FAILED");
    expect(parsed.run?.error).toEqual({ error: "NotFoundError", cause: "bundle is gone" });
    expect(parsed.event).toMatchObject({ detailType: "Run Failed" });
  });

  it("plans events whose detail matches the published schema", () => {
    const steps: [RunView, Progress][] = [
      [run("QUEUED"), { type: "RunStarted" }],
      [run("RUNNING"), { type: "StageSkipped", stage: "build", reason: "bundle" }],
      [run("RUNNING"), { type: "RunSucceeded" }],
    ];
    for (const [r, p] of steps) {
      const { event } = planProgress(r, p, NOW);
      expect(() => LIFECYCLE_EVENTS[event.detailType].parse(event.detail)).not.toThrow();
    }
  });
});
