import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { api, startTestStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack(
    undefined,
    undefined,
    { retryScale: 0.01, waitScale: 0.0001 },
    { dynamodb: { streamRetryBaseDelayMs: 20, streamRetryMaxDelayMs: 200 } },
  );
});
afterEach(() => stack.faults.clear());
afterAll(() => stack.cleanup());

const DYNAMODB_DOWN = { type: "InternalServerError", status: 500 };
const EVENTS_DOWN = { type: "InternalException", status: 500 };

async function register(app: string, definition: Record<string, unknown>) {
  const res = await api(stack, "PUT", `/apps/${app}`, stringify(definition));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Asks for a run, trying again on a 503 as a git host or the CLI would. */
async function startRun(app: string): Promise<string> {
  const created = await waitFor(async () => {
    const res = await api(stack, "POST", `/apps/${app}/runs`, {
      revision: { type: "git", commit: "d".repeat(40) },
    });
    return res.status === 503 ? undefined : res;
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body.id;
}

async function ended(id: string): Promise<Json> {
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${id}`);
      return ["SUCCEEDED", "FAILED", "STOPPED"].includes(body.status) ? body : undefined;
    },
    { what: `run ${id} to end`, timeoutMs: 20_000 },
  );
}

/** The run's events in the event log, once all `expected` of them are there. */
async function eventsOf(id: string, expected: number): Promise<string[]> {
  return waitFor(
    async () => {
      const events = (await stack.eventBridge.read()).filter(
        (e) => (e.detail as { runId?: string }).runId === id,
      );
      return events.length >= expected ? events.map((e) => e["detail-type"]) : undefined;
    },
    { what: `${expected} events of run ${id}`, timeoutMs: 20_000 },
  );
}

/** Each event of the run's outbox is on the bus once: its eventId never repeats. */
async function eventIdsOf(id: string): Promise<string[]> {
  return (await stack.eventBridge.read())
    .filter((e) => (e.detail as { runId?: string }).runId === id)
    .map((e) => String((e.detail as { eventId?: string }).eventId));
}

const WALK = [
  "Run Queued",
  "Run Started",
  "Stage Started",
  "Stage Succeeded",
  "Stage Skipped",
  "Stage Started",
  "Stage Succeeded",
  "Run Succeeded",
];

describe("a transient failure in a step", () => {
  it("of DynamoDB is retried by the state machine, and the run succeeds with each event once", async () => {
    await register("throttled", {
      executionMode: "parallel",
      stages: [{ name: "soak", wait: { seconds: 5 } }],
    });
    // Every write of the run's first step fails for two of its task's tries (the SDK tries
    // three times a call), so Step Functions' Retry of Sluice.Transient has to take over.
    stack.faults.inject({
      service: "dynamodb",
      operation: "TransactWriteItems",
      times: 6,
      error: DYNAMODB_DOWN,
      after: { service: "stepFunctions", operation: "StartExecution" },
    });

    const id = await startRun("throttled");
    const run = await ended(id);

    expect(stack.faults.injected.filter((c) => c === "dynamodb:TransactWriteItems")).toHaveLength(
      6,
    );
    expect(run.status).toBe("SUCCEEDED");
    expect(await eventsOf(id, WALK.length)).toEqual(WALK);
    const ids = await eventIdsOf(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("of EventBridge delays the events, never the run, and each still arrives once", async () => {
    await register("unannounced", {
      executionMode: "queued",
      stages: [{ name: "soak", wait: { seconds: 5 } }],
    });
    stack.faults.inject({
      service: "eventBridge",
      operation: "PutEvents",
      times: 12,
      error: EVENTS_DOWN,
    });

    const first = await startRun("unannounced");
    const second = await startRun("unannounced");
    const [a, b] = [await ended(first), await ended(second)];

    expect([a.status, b.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    // The slot passed on even though the first run's last events could not be published yet.
    expect(Date.parse(b.startedAt)).toBeGreaterThanOrEqual(Date.parse(a.endedAt));
    expect(await eventsOf(first, WALK.length)).toEqual(WALK);
    expect(await eventsOf(second, WALK.length)).toEqual(WALK);
    expect(stack.faults.injected.filter((c) => c === "eventBridge:PutEvents")).toHaveLength(12);
  });
});

describe("a queued app under failures", () => {
  it("never runs two at once and strands no slot when writes fail right after StartExecution", async () => {
    await register("contended", {
      executionMode: "queued",
      stages: [{ name: "soak", wait: { seconds: 10 } }],
    });
    stack.faults.inject({
      service: "dynamodb",
      operation: /^(TransactWriteItems|PutItem|UpdateItem|DeleteItem)$/,
      times: 9,
      error: DYNAMODB_DOWN,
      after: { service: "stepFunctions", operation: "StartExecution" },
    });

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startRun("contended"));
    const runs = [];
    for (const id of ids) runs.push(await ended(id));

    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].endedAt));
    }
    // And the slot is free for the next one.
    expect((await ended(await startRun("contended"))).status).toBe("SUCCEEDED");
    expect(stack.faults.injected).toHaveLength(9);
  });
});
