import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MachineName, machines } from "../support/sfn-machines";
import { endOf, historyOf, invocations, tokensHanded } from "../support/sfn-probes";
import { type StandIn, startStandIn } from "../support/sfn-stand-in";

let dir: string;
let standIn: StandIn;
let n = 0;

// One scaled second is 10 ms of task time and 0.1 ms of Wait.
const TASK_SCALE = 0.01;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sfn-timeouts-"));
  standIn = await startStandIn({
    stateDir: dir,
    machines: machines(
      "held",
      "heldWithTimeout",
      "heldWithPathTimeout",
      "timesOut",
      "waits",
      "waitsUntil",
      "mapped",
    ),
    timing: { taskTimeoutScale: TASK_SCALE, waitScale: 0.0001 },
    log: path.join(dir, "invocations.log"),
  });
});

afterAll(async () => {
  await standIn.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(machine: MachineName, input: Record<string, unknown> = {}) {
  const { executionArn = "" } = await standIn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: standIn.engine.arnOf(machine),
      name: `${machine}-${++n}`,
      input: JSON.stringify(input),
    }),
  );
  return executionArn;
}

describe("a Task's time", () => {
  it("is not capped when it has no TimeoutSeconds: 90 scaled seconds at a gate, then success", async () => {
    // Prepare
    const gate = path.join(dir, "gate-90");
    const startedAt = Date.now();
    const executionArn = await start("held", { file: gate });

    // Act: stay at the gate for 90 scaled seconds, looking at the execution all the while
    const statuses = new Set<string | undefined>();
    while (Date.now() - startedAt < 90 * 1000 * TASK_SCALE) {
      statuses.add((await standIn.sfn.send(new DescribeExecutionCommand({ executionArn }))).status);
    }
    // Written aside and renamed into place, so the task never reads it half-written.
    await writeFile(`${gate}.tmp`, JSON.stringify({ built: true }));
    await rename(`${gate}.tmp`, gate);
    const ended = await endOf(standIn.sfn, executionArn);

    // Assess
    expect([...statuses]).toEqual(["RUNNING"]);
    expect(ended.status).toBe("SUCCEEDED");
    expect(JSON.parse(ended.output ?? "")).toEqual({ file: gate, held: { built: true } });
  });

  it("ends at TimeoutSeconds with States.Timeout", async () => {
    const executionArn = await start("heldWithTimeout", { file: path.join(dir, "never") });

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended).toMatchObject({ status: "FAILED", error: "States.Timeout" });
    const timedOut = (await historyOf(standIn.sfn, executionArn)).find(
      (e) => e.type === "TaskTimedOut",
    );
    expect(timedOut?.taskTimedOutEventDetails).toMatchObject({
      resourceType: "sluice-test",
      resource: "gate",
      error: "States.Timeout",
    });
    const scheduled = (await historyOf(standIn.sfn, executionArn)).find(
      (e) => e.type === "TaskScheduled",
    );
    expect(scheduled?.taskScheduledEventDetails?.timeoutInSeconds).toBe(60);
  });

  it("reads TimeoutSecondsPath from the state's input, and refuses a value that is no count of seconds", async () => {
    const timedOut = await start("heldWithPathTimeout", {
      file: path.join(dir, "never"),
      timeout: 30,
    });
    const refused = await start("heldWithPathTimeout", {
      file: path.join(dir, "never"),
      timeout: "soon",
    });

    expect(await endOf(standIn.sfn, timedOut)).toMatchObject({ error: "States.Timeout" });
    expect(await endOf(standIn.sfn, refused)).toMatchObject({
      status: "FAILED",
      error: "States.Runtime",
    });
  });
});

describe("the state machine's TimeoutSeconds", () => {
  it("ends the execution TIMED_OUT, and it can be redriven", async () => {
    const executionArn = await start("timesOut");

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended).toMatchObject({
      status: "TIMED_OUT",
      error: "States.Timeout",
      redriveStatus: "REDRIVABLE",
    });
    const history = await historyOf(standIn.sfn, executionArn);
    expect(history.at(-1)?.type).toBe("ExecutionTimedOut");
  });
});

describe("a Wait", () => {
  it("waits its SecondsPath, scaled", async () => {
    const executionArn = await start("waits", { seconds: 3600 });

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended.status).toBe("SUCCEEDED");
    const history = await historyOf(standIn.sfn, executionArn);
    const at = (type: string) => history.find((e) => e.type === type)?.timestamp?.getTime() ?? 0;
    expect(at("WaitStateExited") - at("WaitStateEntered")).toBeGreaterThanOrEqual(340);
    expect(history.find((e) => e.type === "WaitStateEntered")?.stateEnteredEventDetails?.name).toBe(
      "Pause",
    );
  });
});

describe("a Wait until a time", () => {
  it("waits the time left until its TimestampPath, scaled", async () => {
    const until = new Date(Date.now() + 3600_000).toISOString();
    const executionArn = await start("waitsUntil", { until });

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended.status).toBe("SUCCEEDED");
    const history = await historyOf(standIn.sfn, executionArn);
    const at = (type: string) => history.find((e) => e.type === type)?.timestamp?.getTime() ?? 0;
    expect(at("WaitStateExited") - at("WaitStateEntered")).toBeGreaterThanOrEqual(340);
  });
});

describe("a Map", () => {
  it("runs its iterations in the library, with their events in the history", async () => {
    const executionArn = await start("mapped", { items: [{ i: 1 }, { i: 2 }] });

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended.status).toBe("SUCCEEDED");
    expect(JSON.parse(ended.output ?? "")).toEqual([{ i: 1 }, { i: 2 }]);
    const types = (await historyOf(standIn.sfn, executionArn)).map((e) => e.type);
    expect(types.filter((t) => t === "MapIterationStarted")).toHaveLength(2);
    expect(types.filter((t) => t === "WaitStateExited")).toHaveLength(2);
    expect(types.filter((t) => t === "LambdaFunctionSucceeded")).toHaveLength(2);
    expect(types.at(1)).toBe("MapStateEntered");
    expect(types.slice(-2)).toEqual(["MapStateExited", "ExecutionSucceeded"]);
  });
});

describe("a wait longer than the library's timers reach", () => {
  it("goes on in a new run of its state: a Wait keeps its time, a token wait its token", async () => {
    // Prepare: the library's timers are cut to 1 s; the waits last 2.5 s
    const own = await mkdtemp(path.join(tmpdir(), "sluice-sfn-relay-"));
    const log = path.join(own, "invocations.log");
    const relaying = await startStandIn({
      stateDir: own,
      machines: machines("waits", "callback"),
      timing: { libraryTimerSeconds: 1, waitScale: 0.1 },
      log,
    });
    const begin = (machine: MachineName, input: unknown) =>
      relaying.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: relaying.engine.arnOf(machine),
          input: JSON.stringify(input),
        }),
      );
    const startedAt = Date.now();
    const waiting = await begin("waits", { seconds: 25 });
    const asking = await begin("callback", { runId: "long" });
    const [token = ""] = await tokensHanded(log);

    // Act
    while (Date.now() - startedAt < 2500) {
      await relaying.sfn.send(new DescribeExecutionCommand({ executionArn: asking.executionArn }));
    }
    await relaying.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"yes"' }));
    const waited = await endOf(relaying.sfn, waiting.executionArn ?? "");
    const asked = await endOf(relaying.sfn, asking.executionArn ?? "");

    // Assess
    expect([waited.status, asked.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    const history = await historyOf(relaying.sfn, waiting.executionArn ?? "");
    const at = (type: string) => history.find((e) => e.type === type)?.timestamp?.getTime() ?? 0;
    expect(at("WaitStateExited") - at("WaitStateEntered")).toBeGreaterThanOrEqual(2490);
    expect(history.filter((e) => e.type === "WaitStateEntered")).toHaveLength(1);
    const types = (await historyOf(relaying.sfn, asking.executionArn ?? "")).map((e) => e.type);
    expect(types.filter((t) => t === "TaskScheduled")).toHaveLength(1);
    expect(invocations(log).filter((i) => i.fn === "record")).toHaveLength(2);
    await relaying.stop();
    await rm(own, { recursive: true, force: true });
  });
});
