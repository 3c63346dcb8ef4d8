import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DescribeExecutionCommand,
  ExecutionNotRedrivable,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machines } from "../support/sfn-machines";
import { endOf, historyOf, invocations } from "../support/sfn-probes";
import { type StandIn, startStandIn } from "../support/sfn-stand-in";

let dir: string;
let standIn: StandIn;
let log: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sfn-redrive-"));
  log = path.join(dir, "invocations.log");
  standIn = await startStandIn({
    stateDir: dir,
    machines: machines("flaky", "waits"),
    // Flaky's retry waits an hour as written; the test has no hour.
    timing: { retryScale: 0 },
    log,
  });
});

afterAll(async () => {
  await standIn.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("RedriveExecution", () => {
  it("continues a failed execution from the state that failed, with that state's input", async () => {
    // Prepare: Flaky fails (after its retry) until the file exists
    const file = path.join(dir, "fixed");
    const { executionArn = "" } = await standIn.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: standIn.engine.arnOf("flaky"),
        name: "flaky-1",
        input: JSON.stringify({ file }),
      }),
    );
    const failed = await endOf(standIn.sfn, executionArn);
    await writeFile(file, "");

    // Act
    const { redriveDate } = await standIn.sfn.send(new RedriveExecutionCommand({ executionArn }));
    const redriven = await endOf(standIn.sfn, executionArn);
    const again = standIn.sfn.send(new RedriveExecutionCommand({ executionArn }));

    // Assess
    expect(failed).toMatchObject({
      status: "FAILED",
      error: "NotYet",
      redriveStatus: "REDRIVABLE",
    });
    expect(redriven).toMatchObject({
      status: "SUCCEEDED",
      redriveCount: 1,
      redriveDate,
      redriveStatus: "NOT_REDRIVABLE",
    });
    expect(JSON.parse(redriven.output ?? "")).toEqual({ file, flaky: { passed: true } });
    // Count ran once; Flaky twice before the redrive (its retry) and once after; After once.
    expect(invocations(log).map((i) => i.fn)).toEqual([
      "record",
      "failUntil",
      "failUntil",
      "failUntil",
      "record",
    ]);
    await expect(again).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    const history = await historyOf(standIn.sfn, executionArn);
    const redrivenEvent = history.find((e) => e.type === "ExecutionRedriven");
    expect(redrivenEvent?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    const afterRedrive = history.slice(
      history.findIndex((e) => e.type === "ExecutionRedriven") + 1,
    );
    expect(afterRedrive[0]?.stateEnteredEventDetails).toMatchObject({
      name: "Flaky",
      input: JSON.stringify({ file }),
    });
    expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
    expect(history.map((e) => e.previousEventId)).toEqual(history.map((_, i) => i));
    const listed = await standIn.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: standIn.engine.arnOf("flaky"),
        redriveFilter: "REDRIVEN",
      }),
    );
    expect(listed.executions?.map((e) => [e.name, e.redriveCount])).toEqual([["flaky-1", 1]]);
    expect(
      standIn.ended.filter((e) => e.executionArn === executionArn).map((e) => e.status),
    ).toEqual(["FAILED", "SUCCEEDED"]);
  });

  it("continues a stopped execution, and refuses one still running", async () => {
    // Prepare: a Wait of an hour
    const { executionArn = "" } = await standIn.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: standIn.engine.arnOf("waits"),
        name: "stopped-then-redriven",
        input: JSON.stringify({ seconds: 3600 }),
      }),
    );
    const whileRunning = await standIn.sfn
      .send(new RedriveExecutionCommand({ executionArn }))
      .catch((err: unknown) => err);
    await standIn.sfn.send(new StopExecutionCommand({ executionArn }));

    // Act
    await standIn.sfn.send(new RedriveExecutionCommand({ executionArn }));
    const described = await standIn.sfn.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(whileRunning).toBeInstanceOf(ExecutionNotRedrivable);
    expect(described).toMatchObject({ status: "RUNNING", redriveCount: 1 });
    const types = (await historyOf(standIn.sfn, executionArn)).map((e) => e.type);
    expect(types.slice(-3)).toEqual(["ExecutionAborted", "ExecutionRedriven", "WaitStateEntered"]);
    await standIn.sfn.send(new StopExecutionCommand({ executionArn }));
  });
});
