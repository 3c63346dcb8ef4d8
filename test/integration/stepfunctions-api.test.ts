import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  ValidationException,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machines } from "../support/sfn-machines";
import { endOf, historyOf } from "../support/sfn-probes";
import { type StandIn, startStandIn } from "../support/sfn-stand-in";

let dir: string;
let standIn: StandIn;
let machineArn: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-sfn-api-"));
  standIn = await startStandIn({
    stateDir: dir,
    machines: machines("waits", "branching"),
    timing: { waitScale: 0 },
    log: path.join(dir, "invocations.log"),
  });
  machineArn = standIn.engine.arnOf("waits");
});

afterAll(async () => {
  await standIn.stop();
  await rm(dir, { recursive: true, force: true });
});

const start = (name: string | undefined, input = '{"seconds":1}', arn = machineArn) =>
  standIn.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name, input }));

describe("the SFN API of the stand-in", () => {
  it("refuses what AWS refuses, with AWS's error names", async () => {
    const executionArn = machineArn.replace(":stateMachine:", ":execution:");
    const refused = await Promise.all(
      [
        start("has spaces"),
        start("x".repeat(81)),
        start("bad-input", "{not json"),
        start("no-machine", "{}", `${machineArn}-gone`),
        start("not-an-arn", "{}", "waits"),
        standIn.sfn.send(new StartExecutionCommand({} as never)),
        standIn.sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}:nope` })),
        standIn.sfn.send(new DescribeExecutionCommand({ executionArn: machineArn })),
        standIn.sfn.send(new ListExecutionsCommand({})),
        standIn.sfn.send(
          new GetExecutionHistoryCommand({
            executionArn: `${executionArn}:nope`,
            maxResults: 5000,
          }),
        ),
      ].map((p) =>
        p.then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    );

    expect(refused.map((err) => (err as Error | undefined)?.constructor)).toEqual([
      InvalidName,
      InvalidName,
      InvalidExecutionInput,
      StateMachineDoesNotExist,
      InvalidArn,
      ValidationException,
      ExecutionDoesNotExist,
      InvalidArn,
      ValidationException,
      ValidationException,
    ]);
    expect((refused[5] as Error).message).toBe(
      "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null",
    );
  });

  it("pages GetExecutionHistory and ListExecutions, in either order", async () => {
    // Prepare
    const names = ["paged-1", "paged-2", "paged-3"];
    for (const name of names) await start(name);
    for (const name of names) {
      await endOf(standIn.sfn, `${machineArn.replace(":stateMachine:", ":execution:")}:${name}`);
    }
    const executionArn = `${machineArn.replace(":stateMachine:", ":execution:")}:paged-1`;

    // Act
    const all = await standIn.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const first = await standIn.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder: true }),
    );
    const second = await standIn.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 3,
        reverseOrder: true,
        nextToken: first.nextToken,
      }),
    );
    const listed = await standIn.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 2 }),
    );
    const rest = await standIn.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn, nextToken: listed.nextToken }),
    );
    const again = await start("paged-1").catch((err: unknown) => err);

    // Assess
    const ids = all.events?.map((e) => e.id) ?? [];
    expect(ids.length).toBeGreaterThan(6);
    expect([...(first.events ?? []), ...(second.events ?? [])].map((e) => e.id)).toEqual(
      [...ids].reverse().slice(0, 6),
    );
    expect(all.events?.[0]?.executionStartedEventDetails?.input).toBe('{"seconds":1}');
    expect(listed.executions).toHaveLength(2);
    expect(
      [...(listed.executions ?? []), ...(rest.executions ?? [])].map((e) => e.name).sort(),
    ).toEqual(names);
    expect(again).toBeInstanceOf(ExecutionAlreadyExists);
  });

  it("runs Parallel, Choice, Pass and Fail states, with the execution's context", async () => {
    const arn = standIn.engine.arnOf("branching");
    const go = await start("branching-go", JSON.stringify({ go: true }), arn);
    const stop = await start("branching-stop", JSON.stringify({ go: false }), arn);

    const went = await endOf(standIn.sfn, go.executionArn ?? "");
    const stopped = await endOf(standIn.sfn, stop.executionArn ?? "");

    expect(went.status).toBe("SUCCEEDED");
    expect(JSON.parse(went.output ?? "")).toEqual({
      name: "branching-go",
      input: { go: true },
      both: [{ go: true }, { right: true }],
    });
    expect(stopped).toMatchObject({ status: "FAILED", error: "Refused", cause: "go was not true" });
    const types = (await historyOf(standIn.sfn, stop.executionArn ?? "")).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["ParallelStateEntered", "WaitStateExited", "ChoiceStateExited"]),
    );
    expect(types.slice(-2)).toEqual(["FailStateEntered", "ExecutionFailed"]);
  });

  it("lists and describes its state machines, and the one an execution runs", async () => {
    const { executionArn } = await start("describe-me");

    const { stateMachines } = await standIn.sfn.send(new ListStateMachinesCommand({}));
    const machine = await standIn.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn }),
    );
    const forExecution = await standIn.sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn }),
    );
    const missing = await standIn.sfn
      .send(new DescribeStateMachineCommand({ stateMachineArn: `${machineArn}-gone` }))
      .catch((err: Error) => err);

    expect(stateMachines?.map((m) => [m.name, m.type])).toEqual(
      expect.arrayContaining([
        ["waits", "STANDARD"],
        ["branching", "STANDARD"],
      ]),
    );
    expect(machine).toMatchObject({ stateMachineArn: machineArn, name: "waits", status: "ACTIVE" });
    expect(JSON.parse(machine.definition ?? "{}")).toHaveProperty("StartAt");
    expect(forExecution).toMatchObject({
      stateMachineArn: machineArn,
      name: "waits",
      definition: machine.definition,
    });
    expect(forExecution.updateDate).toBeInstanceOf(Date);
    expect(missing).toBeInstanceOf(StateMachineDoesNotExist);
    await endOf(standIn.sfn, executionArn as string);
  });
});
