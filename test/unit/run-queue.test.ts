import { beforeEach, describe, expect, it } from "vitest";
import type { App, ExecutionMode } from "../../domain/app";
import { PipelineStartError } from "../../domain/errors";
import type { Clock } from "../../domain/ports";
import type { Run } from "../../domain/run";
import { admitRecordedRuns } from "../../usecases/admit-runs";
import { nextStep } from "../../usecases/next-step";
import { retryRun, stopRun } from "../../usecases/run-control";
import { executionEnded } from "../../usecases/run-queue";
import { recordRun } from "../../usecases/start-run";
import {
  MemoryApps,
  MemoryExecutions,
  MemoryGroupLocks,
  MemoryQueue,
  MemoryRuns,
  startRun,
  steppingClock,
} from "../support/fakes";

const revision = { type: "git" as const, commit: "f".repeat(40) };
const trigger = { type: "api" as const };

let ports: {
  apps: MemoryApps;
  runs: MemoryRuns;
  queue: MemoryQueue;
  executions: MemoryExecutions;
  clock: Clock;
  locks: MemoryGroupLocks;
  leaseSeconds: number;
};

/** The app every test runs, registered by `register`. */
let shop: App;

async function register(executionMode: ExecutionMode) {
  const at = "2026-01-01T00:00:00.000Z";
  shop = {
    name: "shop",
    pipeline: { executionMode, triggers: [], stages: [] },
    createdAt: at,
    updatedAt: at,
  };
  await ports.apps.put(shop);
}

/** What the pipeline's first step does to a run: it is RUNNING, in its source step. */
async function enterRun(runId: string) {
  await nextStep(ports, { runId, step: null });
}

/**
 * What the pipeline does to a run with nothing to build: its source step, then its end, which
 * Step Functions announces (the status-change rule calls executionEnded).
 */
async function runToEnd(runId: string) {
  const { step } = await nextStep(ports, { runId, step: null });
  await nextStep(ports, { runId, step, result: revision });
  ports.executions.end(runId, "SUCCEEDED");
  await executionEnded(ports, runId, { status: "SUCCEEDED" });
}

const status = async (id: string) => (await ports.runs.get(id))?.status;

beforeEach(() => {
  ports = {
    apps: new MemoryApps(),
    runs: new MemoryRuns(),
    queue: new MemoryQueue(),
    executions: new MemoryExecutions(),
    clock: steppingClock(),
    locks: new MemoryGroupLocks(),
    leaseSeconds: 300,
  };
});

describe("parallel mode", () => {
  it("starts every run at once", async () => {
    await register("parallel");

    const a = await startRun(ports, shop, revision, trigger);
    const b = await startRun(ports, shop, revision, trigger);

    expect(ports.executions.started).toEqual([a.id, b.id]);
    expect(b.executionArn).toContain(b.id);
  });
});

describe("a change of mode", () => {
  it("frees the slot a parallel run took when retried once its app had become queued", async () => {
    await register("parallel");
    const run = await startRun(ports, shop, revision, trigger);
    const { step } = await nextStep(ports, { runId: run.id, step: null });
    ports.executions.end(run.id, "FAILED");
    await executionEnded(ports, run.id, { status: "FAILED", error: "Sluice.Transient" });
    await register("queued");

    await retryRun(ports, run.id, "ana", {});
    const waiting = await startRun(ports, shop, revision, trigger);
    expect(waiting.status).toBe("QUEUED");
    await nextStep(ports, { runId: run.id, step: { ...step, attempt: 2 }, result: revision });
    ports.executions.end(run.id, "SUCCEEDED");
    await executionEnded(ports, run.id, { status: "SUCCEEDED" });

    expect(await status(run.id)).toBe("SUCCEEDED");
    expect(ports.executions.started).toContain(waiting.id);
    expect(await ports.queue.holder("shop")).toBe(waiting.id);
  });
});

describe("queued mode", () => {
  it("holds a run while another is in progress, and starts it when that one ends", async () => {
    await register("queued");
    const first = await startRun(ports, shop, revision, trigger);

    const second = await startRun(ports, shop, revision, trigger);

    expect(ports.executions.started).toEqual([first.id]);
    expect(second.status).toBe("QUEUED");

    await runToEnd(first.id);

    expect(ports.executions.started).toEqual([first.id, second.id]);
  });

  it("starts waiting runs in the order they arrived", async () => {
    await register("queued");
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await startRun(ports, shop, revision, trigger)).id);

    for (const id of ids) await runToEnd(id);

    expect(ports.executions.started).toEqual(ids);
    for (const id of ids) expect(await status(id)).toBe("SUCCEEDED");
  });

  it("moves on to the next run when the slot's holder died without saying so", async () => {
    await register("queued");
    const stuck = await startRun(ports, shop, revision, trigger);
    // Its execution failed so early that it never recorded an end: mark it failed by hand.
    await ports.runs.apply(
      stuck.id,
      { expect: { status: ["QUEUED"] }, set: { status: "FAILED" }, steps: [], events: [] },
      "2026-01-01T00:00:01.000Z",
    );

    const next = await startRun(ports, shop, revision, trigger);

    expect(ports.executions.started).toEqual([stuck.id, next.id]);
  });

  it.each(["FAILED", "ABORTED", "TIMED_OUT", "GONE"] as const)(
    "ends a holder whose execution is %s without having said so, and starts the next",
    async (ended) => {
      await register("queued");
      const holder = await startRun(ports, shop, revision, trigger);
      await enterRun(holder.id);
      ports.executions.end(holder.id, ended);

      const next = await startRun(ports, shop, revision, trigger);

      expect(await ports.runs.get(holder.id)).toMatchObject({
        status: "FAILED",
        error: { error: "ExecutionEnded", cause: expect.stringContaining(ended) },
      });
      expect(ports.runs.outbox.at(-1)).toMatchObject({
        detailType: "Run Failed",
        detail: { runId: holder.id },
      });
      expect(ports.executions.started).toEqual([holder.id, next.id]);
    },
  );

  it("takes a holder that ends while it is being looked at in its stride", async () => {
    await register("queued");
    const holder = await startRun(ports, shop, revision, trigger);
    await enterRun(holder.id);
    const executions = ports.executions;
    // Its pipeline records its end just as the queue asks Step Functions about it.
    executions.describe = async () => {
      const held = await ports.runs.get(holder.id);
      await nextStep(ports, {
        runId: holder.id,
        step: held?.plan && { index: 0, attempt: 1 },
        result: revision,
      });
      return { status: "SUCCEEDED" };
    };

    const next = await startRun(ports, shop, revision, trigger);

    expect(await status(holder.id)).toBe("SUCCEEDED");
    expect(ports.executions.started).toEqual([holder.id, next.id]);
    expect(ports.runs.outbox.map((e) => e.detailType)).not.toContain("Run Failed");
  });

  it("keeps waiting behind a holder whose execution is still running", async () => {
    await register("queued");
    const holder = await startRun(ports, shop, revision, trigger);
    await enterRun(holder.id);

    const next = await startRun(ports, shop, revision, trigger);

    expect(await status(holder.id)).toBe("RUNNING");
    expect(await status(next.id)).toBe("QUEUED");
    expect(ports.executions.started).toEqual([holder.id]);
  });

  it.each([
    ["after taking it off the waiting list", false],
    ["before taking it off the waiting list", true],
  ])("starts a holder whose dispatcher died %s, before starting it", async (_, listed) => {
    await register("queued");
    const at = "2026-01-01T00:00:00.000Z";
    const orphan: Run = {
      id: "01JNH0000000000000000ABCDE",
      app: "shop",
      status: "QUEUED",
      revision,
      trigger,
      createdAt: at,
      updatedAt: at,
      plan: { steps: [{ id: "source", kind: "source" }] },
      cursor: -1,
      attempt: 1,
      retries: [],
    };
    await ports.runs.create(orphan, []);
    if (listed) await ports.queue.enqueue("shop", { runId: orphan.id, createdAt: at });
    await ports.queue.acquire("shop", orphan.id);

    const next = await startRun(ports, shop, revision, trigger);

    expect(ports.executions.started).toEqual([orphan.id]);
    expect(await status(next.id)).toBe("QUEUED");
    expect(await ports.queue.holder("shop")).toBe(orphan.id);
  });

  it("fails a run whose execution cannot start when the slot passes on, and gives the slot to the next", async () => {
    await register("queued");
    const first = await startRun(ports, shop, revision, trigger);
    const second = await startRun(ports, shop, revision, trigger);
    const third = await startRun(ports, shop, revision, trigger);
    ports.executions.failNext = true;

    await runToEnd(first.id);

    expect(await status(second.id)).toBe("FAILED");
    expect((await ports.runs.get(second.id))?.error?.error).toBe("PipelineStartFailed");
    expect(ports.executions.started).toEqual([first.id, third.id]);
  });
});

describe("admission from the table's stream", () => {
  const RETRY_MS = 60_000;
  const recorded = async (mode: ExecutionMode) => {
    await register(mode);
    const run = await recordRun(ports, shop, revision, trigger);
    return { sequenceNumber: run.id, run, recordedAt: Date.parse(run.createdAt) };
  };

  it("lets a recorded run in and answers nothing to deliver again", async () => {
    const record = await recorded("parallel");

    const { retry } = await admitRecordedRuns(ports, [record], RETRY_MS);

    expect(retry).toEqual([]);
    expect(ports.executions.started).toEqual([record.run.id]);
  });

  it("starts nothing for a run that was stopped before it was let in", async () => {
    const record = await recorded("parallel");
    await stopRun(ports, record.run.id, "ada", {});

    const { retry } = await admitRecordedRuns(ports, [record], RETRY_MS);

    expect(retry).toEqual([]);
    expect(await status(record.run.id)).toBe("STOPPED");
    expect(ports.executions.started).toEqual([]);
  });

  it("asks for a run and those after it again when Step Functions refuses, and starts it then", async () => {
    const first = await recorded("parallel");
    const second = await recorded("parallel");
    ports.executions.failNext = true;

    const failed = await admitRecordedRuns(ports, [first, second], RETRY_MS);
    const again = await admitRecordedRuns(ports, [first, second], RETRY_MS);

    expect(failed.retry).toEqual([first.sequenceNumber, second.sequenceNumber]);
    expect(failed.failure).toBeInstanceOf(PipelineStartError);
    expect(again.retry).toEqual([]);
    expect(await status(first.run.id)).toBe("QUEUED");
    expect(ports.executions.started).toEqual([first.run.id, second.run.id]);
  });

  it.each(["parallel", "queued"] as const)(
    "ends a %s run FAILED once it has been tried for long enough, and lets the next in",
    async (mode) => {
      const stuck = await recorded(mode);
      const next = await recorded(mode);
      ports.executions.failNext = true;
      const late = { ...stuck, recordedAt: stuck.recordedAt - RETRY_MS };

      const { retry } = await admitRecordedRuns(ports, [late, next], RETRY_MS);

      expect(retry).toEqual([]);
      expect(await ports.runs.get(stuck.run.id)).toMatchObject({
        status: "FAILED",
        error: { error: "PipelineStartFailed", cause: expect.stringMatching(/unavailable/) },
      });
      expect(ports.runs.outbox.filter((e) => e.detailType === "Run Failed")).toHaveLength(1);
      expect(ports.executions.started).toEqual([next.run.id]);
    },
  );
});

describe("superseded mode", () => {
  it("replaces every waiting run with the newest change", async () => {
    await register("superseded");
    const running = await startRun(ports, shop, revision, trigger);
    const older = await startRun(ports, shop, revision, trigger);
    const old = await startRun(ports, shop, revision, trigger);

    const newest = await startRun(ports, shop, revision, trigger);

    expect(ports.executions.started).toEqual([running.id]);
    expect(await status(older.id)).toBe("SUPERSEDED");
    expect(await status(old.id)).toBe("SUPERSEDED");
    expect(await status(newest.id)).toBe("QUEUED");
    const superseded = ports.runs.outbox.filter((e) => e.detailType === "Run Superseded");
    expect(superseded.map((e) => e.detail.runId)).toEqual([older.id, old.id]);

    await runToEnd(running.id);

    expect(ports.executions.started).toEqual([running.id, newest.id]);
  });

  it("keeps the later of two changes made in the same millisecond, arriving at once", async () => {
    await register("superseded");
    const running = await startRun(ports, shop, revision, trigger);
    const sameTime = new Date("2026-01-01T00:01:00.000Z");
    ports.clock = { now: () => sameTime };

    const [a, b] = await Promise.all([
      startRun(ports, shop, revision, trigger),
      startRun(ports, shop, revision, trigger),
    ]);
    const [earlier, later] = [a, b].sort((x, y) => (x.id < y.id ? -1 : 1));

    expect(await status(earlier?.id ?? "")).toBe("SUPERSEDED");
    expect(await status(later?.id ?? "")).toBe("QUEUED");
    await runToEnd(running.id);
    expect(ports.executions.started).toEqual([running.id, later?.id]);
  });

  it("never interrupts the run in progress", async () => {
    await register("superseded");
    const running = await startRun(ports, shop, revision, trigger);
    await enterRun(running.id);

    await startRun(ports, shop, revision, trigger);

    expect(await status(running.id)).toBe("RUNNING");
  });
});
