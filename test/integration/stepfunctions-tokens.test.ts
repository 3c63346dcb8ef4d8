import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  ValidationException,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/local-stack";
import { type MachineName, machines } from "../support/sfn-machines";
import { endOf, historyOf, invocations, tokensHanded } from "../support/sfn-probes";
import { type StandIn, startStandIn } from "../support/sfn-stand-in";

let dir: string;
let standIn: StandIn;
let log: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sfn-tokens-"));
  standIn = await startStandIn({
    stateDir: dir,
    machines: machines(
      "callback",
      "callbackWithHeartbeat",
      "callbackWithTimeout",
      "callbackOfBoom",
    ),
    // HeartbeatSeconds 30 → 300 ms, TimeoutSeconds 20 → 200 ms
    timing: { taskTimeoutScale: 0.01, retryScale: 0 },
    log: path.join(dir, "unused.log"),
  });
});

afterAll(async () => {
  await standIn.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `machine` with its own invocation log; answers the execution and that log. */
async function start(machine: MachineName) {
  log = path.join(dir, `invocations-${++n}.log`);
  process.env.SLUICE_SFN_TEST_LOG = log;
  const { executionArn = "" } = await standIn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: standIn.engine.arnOf(machine),
      name: `run-${n}`,
      input: JSON.stringify({ runId: `run-${n}` }),
    }),
  );
  return { executionArn, log };
}

describe("a lambda:invoke.waitForTaskToken task", () => {
  it("invokes the function with the Payload and a token, and waits for SendTaskSuccess", async () => {
    // Prepare
    const { executionArn, log } = await start("callback");
    const [token = ""] = await tokensHanded(log);

    // Act
    await standIn.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
    );
    const ended = await endOf(standIn.sfn, executionArn);
    const again = standIn.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));

    // Assess
    expect(ended.status).toBe("SUCCEEDED");
    expect(JSON.parse(ended.output ?? "")).toEqual({
      runId: `run-${n}`,
      answer: { approved: true },
    });
    expect(invocations(log)).toEqual([
      { fn: "record", event: { runId: `run-${n}`, taskToken: token } },
    ]);
    expect(token.length).toBeLessThanOrEqual(2048);
    await expect(again).rejects.toBeInstanceOf(TaskTimedOut);
    const types = (await historyOf(standIn.sfn, executionArn)).map((e) => e.type);
    expect(types).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
      "TaskStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("fails with SendTaskFailure's error, so Retry and Catch match on its name", async () => {
    // Prepare
    const { executionArn, log } = await start("callback");
    const [first = ""] = await tokensHanded(log, 1);

    // Act: Rejected is retried once with a new token, then caught
    await standIn.sfn.send(
      new SendTaskFailureCommand({ taskToken: first, error: "Rejected", cause: "not today" }),
    );
    const [, second = ""] = await tokensHanded(log, 2);
    await standIn.sfn.send(
      new SendTaskFailureCommand({ taskToken: second, error: "Rejected", cause: "nor tomorrow" }),
    );
    const ended = await endOf(standIn.sfn, executionArn);

    // Assess
    expect(second).not.toBe(first);
    expect(ended.status).toBe("SUCCEEDED");
    expect(JSON.parse(ended.output ?? "").error).toEqual({
      Error: "Rejected",
      Cause: "nor tomorrow",
    });
    const failures = (await historyOf(standIn.sfn, executionArn))
      .filter((e) => e.type === "TaskFailed")
      .map((e) => e.taskFailedEventDetails);
    expect(failures).toEqual([
      expect.objectContaining({ error: "Rejected", cause: "not today", resourceType: "lambda" }),
      expect.objectContaining({ error: "Rejected", cause: "nor tomorrow" }),
    ]);
  });

  it("keeps waiting while heartbeats come, and fails with States.HeartbeatTimeout when they stop", async () => {
    // Prepare
    const { executionArn, log } = await start("callbackWithHeartbeat");
    const [token = ""] = await tokensHanded(log);

    // Act: beat for three heartbeat periods (300 ms each), then stop
    const beatUntil = Date.now() + 900;
    while (Date.now() < beatUntil) {
      await standIn.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stillRunning = standIn.engine.execution(executionArn).status;
    const ended = await endOf(standIn.sfn, executionArn);

    // Assess
    expect(stillRunning).toBe("RUNNING");
    expect(ended).toMatchObject({ status: "FAILED", error: "States.HeartbeatTimeout" });
    const timedOut = (await historyOf(standIn.sfn, executionArn)).find(
      (e) => e.type === "TaskTimedOut",
    );
    expect(timedOut?.taskTimedOutEventDetails?.error).toBe("States.HeartbeatTimeout");
    await expect(
      standIn.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it("times out with States.Timeout at TimeoutSeconds, which a States.TaskFailed catcher lets through", async () => {
    const { executionArn } = await start("callbackWithTimeout");

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended).toMatchObject({ status: "FAILED", error: "States.Timeout" });
    const types = (await historyOf(standIn.sfn, executionArn)).map((e) => e.type);
    expect(types).toContain("TaskTimedOut");
    expect(types).not.toContain("PassStateEntered");
  });

  it("fails with the function's error when the invocation itself fails", async () => {
    const { executionArn } = await start("callbackOfBoom");

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended).toMatchObject({ status: "FAILED", error: "Boom" });
    expect(ended.cause).toContain("it went boom");
  });
});

describe("SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat", () => {
  it("answer AWS's errors for tokens and outputs they cannot take", async () => {
    // Prepare
    const { log } = await start("callback");
    const [token = ""] = await tokensHanded(log);
    const unknown = Buffer.from(
      JSON.stringify({
        e: "arn:aws:states:us-east-1:000000000000:execution:callback:gone",
        n: "x",
      }),
    ).toString("base64url");

    // Act
    const sends = {
      garbage: standIn.sfn.send(new SendTaskSuccessCommand({ taskToken: "?!", output: "{}" })),
      unknown: standIn.sfn.send(new SendTaskHeartbeatCommand({ taskToken: unknown })),
      notJson: standIn.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{nope" })),
      missing: standIn.sfn.send(new SendTaskSuccessCommand({ output: "{}" } as never)),
    };

    // Assess
    await expect(sends.garbage).rejects.toBeInstanceOf(InvalidToken);
    await expect(sends.unknown).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(sends.notJson).rejects.toBeInstanceOf(InvalidOutput);
    await expect(sends.missing).rejects.toBeInstanceOf(ValidationException);
    await standIn.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));
    await waitFor(async () => (standIn.ended.length > 0 ? true : undefined));
  });
});
