import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/local-stack";
import { type MachineName, machines } from "../support/sfn-machines";
import { alive, endOf, historyOf, pidIn, sleepingBuildspec } from "../support/sfn-probes";
import { type StandIn, startStandIn } from "../support/sfn-stand-in";

let dir: string;
let standIn: StandIn;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sfn-stop-"));
  standIn = await startStandIn({
    stateDir: dir,
    machines: machines("build", "buildWithTimeout", "waits"),
    // TimeoutSeconds 2 → 200 ms
    timing: { taskTimeoutScale: 0.1 },
    log: path.join(dir, "invocations.log"),
  });
});

afterAll(async () => {
  await standIn.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(machine: MachineName, name: string, input: unknown) {
  const { executionArn = "" } = await standIn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: standIn.engine.arnOf(machine),
      name,
      input: JSON.stringify(input),
    }),
  );
  return executionArn;
}

describe("StopExecution", () => {
  it("ends the execution ABORTED with its error and cause, and kills the build's processes", async () => {
    // Prepare
    const pidFile = path.join(dir, "build.pid");
    const executionArn = await start("build", "stopped-build", {
      buildspec: sleepingBuildspec(pidFile),
    });
    const pid = await pidIn(pidFile);

    // Act
    await standIn.sfn.send(
      new StopExecutionCommand({ executionArn, error: "Operator", cause: "wrong branch" }),
    );
    const ended = await endOf(standIn.sfn, executionArn);

    // Assess
    expect(ended).toMatchObject({ status: "ABORTED", error: "Operator", cause: "wrong branch" });
    await waitFor(async () => (alive(pid) ? undefined : true), { what: "the build to be killed" });
    const history = await historyOf(standIn.sfn, executionArn);
    expect(history.slice(-2).map((e) => e.type)).toEqual(["TaskStateAborted", "ExecutionAborted"]);
    expect(history.at(-1)?.executionAbortedEventDetails).toEqual({
      error: "Operator",
      cause: "wrong branch",
    });
    expect(standIn.ended).toContainEqual(
      expect.objectContaining({ executionArn, status: "ABORTED", error: "Operator" }),
    );
  });

  it("ends a Wait at once", async () => {
    const executionArn = await start("waits", "stopped-wait", { seconds: 3600 });
    await waitFor(async () =>
      (await historyOf(standIn.sfn, executionArn)).some((e) => e.type === "WaitStateEntered")
        ? true
        : undefined,
    );

    await standIn.sfn.send(new StopExecutionCommand({ executionArn }));

    expect((await endOf(standIn.sfn, executionArn, 1000)).status).toBe("ABORTED");
  });
});

describe("a build's TimeoutSeconds", () => {
  it("fails the task with States.Timeout and kills the build's processes", async () => {
    const pidFile = path.join(dir, "timed-out-build.pid");
    const executionArn = await start("buildWithTimeout", "timed-out-build", {
      buildspec: sleepingBuildspec(pidFile),
    });
    const pid = await pidIn(pidFile);

    const ended = await endOf(standIn.sfn, executionArn);

    expect(ended).toMatchObject({ status: "FAILED", error: "States.Timeout" });
    await waitFor(async () => (alive(pid) ? undefined : true), { what: "the build to be killed" });
  });
});

describe("stopping the stand-in", () => {
  it("has killed every build's processes when it resolves, and leaves the execution RUNNING", async () => {
    // Prepare: a stand-in of its own, so the file's stays up
    const own = await mkdtemp(path.join(tmpdir(), "sluice-sfn-stop-own-"));
    const other = await startStandIn({
      stateDir: own,
      machines: machines("build"),
      log: path.join(own, "invocations.log"),
    });
    const pidFile = path.join(own, "build.pid");
    await other.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: other.engine.arnOf("build"),
        name: "left-running",
        input: JSON.stringify({ buildspec: sleepingBuildspec(pidFile) }),
      }),
    );
    const pid = await pidIn(pidFile);

    // Act
    await other.stop();

    // Assess
    expect(alive(pid)).toBe(false);
    const arn = other.engine.arnOf("build").replace(":stateMachine:", ":execution:");
    expect(other.engine.execution(`${arn}:left-running`).status).toBe("RUNNING");
    expect(other.ended).toEqual([]);
    await rm(own, { recursive: true, force: true });
  });
});
