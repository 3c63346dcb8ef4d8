import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetExecutionHistoryCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { LOCAL_CREDENTIALS } from "../../local/stack";
import { waitFor } from "../support/local-stack";
import { killStackProcesses, type StackProcess, startStackProcess } from "../support/stack-process";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

const dirs: string[] = [];
afterAll(async () => {
  killStackProcesses();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** An hour's wait lasts 3.6 s: the soak's three hours are long enough to kill the stack in. */
const TIMING = { SLUICE_LOCAL_WAIT_SCALE: "0.001" };

async function freshStateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-durable-"));
  dirs.push(dir);
  return dir;
}

async function startRun(stack: StackProcess, app: string, stages: unknown[]): Promise<string> {
  const definition = stringify({ executionMode: "queued", stages });
  expect((await stack.call("PUT", `/apps/${app}`, definition)).status).toBe(201);
  const created = await stack.call("POST", `/apps/${app}/runs`, {
    revision: { type: "git", commit: "c".repeat(40) },
  });
  expect(created.status).toBe(202);
  return created.body.id;
}

function stageOf(run: Json, name: string): Json {
  return run.stages.find((s: Json) => s.name === name);
}

async function until(
  stack: StackProcess,
  runId: string,
  what: string,
  check: (run: Json) => boolean,
): Promise<Json> {
  return waitFor(
    async () => {
      const { body } = await stack.call("GET", `/runs/${runId}`);
      return check(body) ? body : undefined;
    },
    { what, timeoutMs: 20_000 },
  );
}

describe("kill -9 of npm start while runs wait, then npm start again", () => {
  // One stack holds a run in a wait stage and another in an approval; it is killed once, and
  // started again once, for both.
  let second: StackProcess;
  let soaked: string;
  let gated: string;
  /** The soaked run as its wait began. */
  let waiting: Json;
  let killedAt: number;
  /** When the second stack began to start. */
  let restartingAt: number;

  beforeAll(async () => {
    const stateDir = await freshStateDir();
    const first = await startStackProcess(stateDir, TIMING);
    soaked = await startRun(first, "soaked", [{ name: "soak", wait: { minutes: 180 } }]);
    gated = await startRun(first, "gated", [{ name: "sign-off", approval: {} }]);
    waiting = await until(
      first,
      soaked,
      "the soak to start",
      (r) => stageOf(r, "soak")?.status === "RUNNING",
    );
    const asking = await until(
      first,
      gated,
      "the approval",
      (r) => stageOf(r, "sign-off")?.status === "RUNNING",
    );
    // Killed once the approval's task has handed its token over and the execution waits on it.
    const sfn = new SFNClient({
      endpoint: first.endpoints.stepFunctions,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
    });
    await waitFor(async () => {
      const { events = [] } = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn: asking.executionArn }),
      );
      return events.some((e) => e.type === "TaskSubmitted") ? true : undefined;
    });

    // Four seconds into the soak at least: a resumed wait that ends as due still has its end
    // recorded by the restarted stack's first, cold, task, which takes up to seconds on a busy
    // machine; begun this much earlier than one started over, it still ends before it.
    const began = Date.parse(waiting.stages.at(-1).startedAt);
    await waitFor(async () => (Date.now() >= began + 4_000 ? true : undefined), {
      what: "four seconds of the soak",
      timeoutMs: 8_000,
    });
    killedAt = Date.now();
    await first.kill();
    restartingAt = Date.now();
    second = await startStackProcess(stateDir, TIMING);
  });
  afterAll(async () => {
    await second?.kill();
  });

  it("goes on with a wait stage for the time it had left, and the run succeeds", async () => {
    // Act
    const ended = await until(second, soaked, "the run to end", (r) =>
      ["SUCCEEDED", "FAILED"].includes(r.status),
    );

    // Assess
    expect(ended.status).toBe("SUCCEEDED");
    const soak = stageOf(ended, "soak");
    expect(soak).toMatchObject({ status: "SUCCEEDED", attempt: 1 });
    // The wait was still going when the stack was killed.
    expect(Date.parse(soak.endedAt)).toBeGreaterThan(killedAt);
    // Scaled, the three hours are 10.8 s: the wait was not cut short by the restart, and did not
    // start over, which would end it no sooner than 10.8 s after the second stack began to start
    // (however slowly that stack comes up, a resumed wait ends sooner).
    const began = Date.parse(waiting.stages.at(-1).startedAt);
    const lasted = Date.parse(soak.endedAt) - began;
    expect(lasted).toBeGreaterThanOrEqual(10_800);
    expect(Date.parse(soak.endedAt)).toBeLessThan(restartingAt + 10_800);
  });

  it("keeps an approval's wait, which a decision after the restart resumes", async () => {
    // Act
    const decided = await waitFor(async () => {
      const res = await second.call("POST", `/runs/${gated}/approval`, {
        decision: "approve",
        comment: "after the crash",
      });
      return res.status === 200 ? res : undefined;
    });
    const ended = await until(second, gated, "the run to end", (r) =>
      ["SUCCEEDED", "FAILED"].includes(r.status),
    );

    // Assess
    expect(decided.body).toMatchObject({ outcome: "approved", approvals: 1, required: 1 });
    expect(ended.status).toBe("SUCCEEDED");
    expect(stageOf(ended, "sign-off")).toMatchObject({ status: "SUCCEEDED", attempt: 1 });
    expect(stageOf(ended, "sign-off").message).toMatch(/: after the crash$/);
  });
});
