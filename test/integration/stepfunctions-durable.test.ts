import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  RedriveExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/local-stack";
import { MACHINES, type MachineName, machines } from "../support/sfn-machines";
import { alive, endOf, historyOf, invocations, pidIn, tokensHanded } from "../support/sfn-probes";
import { startStandIn } from "../support/sfn-stand-in";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "../support/sfn-child.ts");

let root: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-sfn-durable-"));
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await rm(root, { recursive: true, force: true });
});

/** The stand-in in a process of its own, on `stateDir`, once it serves. */
async function spawnStandIn(
  stateDir: string,
  names: MachineName[],
  scales: Record<string, string>,
) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: {
      ...process.env,
      SLUICE_SFN_STATE_DIR: stateDir,
      SLUICE_SFN_TEST_LOG: path.join(stateDir, "invocations.log"),
      SLUICE_SFN_MACHINES: names.join(","),
      ...scales,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const ready = out.match(/^ready (\S+)$/m);
      if (ready?.[1]) resolve(ready[1]);
    });
    child.once("exit", (code) => reject(new Error(`the stand-in exited (${code}) before serving`)));
  });
  const sfn = new SFNClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const kill = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    children.delete(child);
  };
  return { sfn, kill, readyAt: Date.now() };
}

async function startIn(sfn: SFNClient, machine: MachineName, name: string, input: unknown) {
  const { executionArn = "" } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`,
      name,
      input: JSON.stringify(input),
    }),
  );
  return executionArn;
}

async function reached(sfn: SFNClient, executionArn: string, type: string) {
  await waitFor(
    async () =>
      (await historyOf(sfn, executionArn)).some((e) => e.type === type) ? true : undefined,
    { what: `${type} in the history` },
  );
}

/** A stand-in's state folder after a clean stop, with one execution left in a Wait. */
async function stoppedInAWait(dirName: string, execution: string, seconds: number) {
  const stateDir = path.join(root, dirName);
  const log = path.join(stateDir, "invocations.log");
  const first = await startStandIn({ stateDir, machines: machines("waits"), log });
  const executionArn = await startIn(first.sfn, "waits", execution, { seconds });
  await reached(first.sfn, executionArn, "WaitStateEntered");
  await first.stop();
  return { stateDir, log, executionArn };
}

/** A stopped stand-in's state folder: one execution that ended, and one left in a Wait. */
async function oneEndedOneWaiting(name: string) {
  const stateDir = path.join(root, name);
  const log = path.join(stateDir, "invocations.log");
  const first = await startStandIn({ stateDir, machines: machines("waits"), log });
  const ended = await startIn(first.sfn, "waits", "ended", { seconds: 0 });
  await endOf(first.sfn, ended);
  const waiting = await startIn(first.sfn, "waits", "waiting", { seconds: 3600 });
  await reached(first.sfn, waiting, "WaitStateEntered");
  await first.stop();
  const summaries = path.join(stateDir, "stepfunctions", "executions", "summaries.jsonl");
  return { stateDir, log, ended, waiting, summaries };
}

/** Replaces the last line of `executionArn` in the summaries file by what `edit` makes of it. */
async function editSummaryLine(file: string, executionArn: string, edit: (line: string) => string) {
  const lines = (await readFile(file, "utf8")).split("\n");
  const last = lines.findLastIndex((l) => l.includes(`"${executionArn}"`));
  lines[last] = edit(lines[last] ?? "");
  await writeFile(file, lines.join("\n"));
}

describe("after a SIGKILL of the stand-in and a restart", () => {
  // One stand-in holds an execution in a Wait, one in a task-token wait and one in a build; it
  // is killed once and started again once.
  const stateDir = () => path.join(root, "killed");
  const log = () => path.join(stateDir(), "invocations.log");
  const pidFile = () => path.join(stateDir(), "build.pid");
  const gate = () => path.join(stateDir(), "gate");
  const scales = { SLUICE_LOCAL_WAIT_SCALE: "0.05" };
  const names: MachineName[] = ["waits", "callback", "build"];
  let second: Awaited<ReturnType<typeof spawnStandIn>>;
  let waiting: string;
  let asking: string;
  let building: string;
  let token: string;
  let orphan: number;
  let orphanSurvivedTheKill: boolean;

  beforeAll(async () => {
    const first = await spawnStandIn(stateDir(), names, scales);
    // A Wait of 60 s, scaled to 3 s
    waiting = await startIn(first.sfn, "waits", "killed-waiting", { seconds: 60 });
    asking = await startIn(first.sfn, "callback", "killed-asking", { runId: "r1" });
    const buildspec = [
      "version: 0.2",
      "phases:",
      "  build:",
      "    commands:",
      `      - (until test -e ${gate()}; do sleep 0.05; done) & echo $! > ${pidFile()}; wait`,
    ].join("\n");
    building = await startIn(first.sfn, "build", "killed-building", { buildspec });
    await reached(first.sfn, waiting, "WaitStateEntered");
    [token = ""] = await tokensHanded(log());
    await reached(first.sfn, asking, "TaskSubmitted");
    orphan = await pidIn(pidFile());
    await rm(pidFile());

    await first.kill();
    orphanSurvivedTheKill = alive(orphan);
    second = await spawnStandIn(stateDir(), names, scales);
  });

  afterAll(async () => {
    await second.kill();
  });

  it("a Wait keeps its remaining time, and the execution succeeds", async () => {
    const ended = await endOf(second.sfn, waiting, 15_000);

    expect(ended.status).toBe("SUCCEEDED");
    const history = await historyOf(second.sfn, waiting);
    const at = (type: string) => history.find((e) => e.type === type)?.timestamp?.getTime() ?? 0;
    expect(at("WaitStateExited") - at("WaitStateEntered")).toBeGreaterThanOrEqual(2990);
    // Counted from when the Wait was entered, not from the restart.
    expect(at("WaitStateExited")).toBeLessThan(
      Math.max(second.readyAt, at("WaitStateEntered") + 3000) + 1000,
    );
    expect(history.filter((e) => e.type === "WaitStateEntered")).toHaveLength(1);
    expect(history.map((e) => e.id)).toEqual(history.map((_, i) => i + 1));
  });

  it("a task-token wait keeps its token, does not invoke its function again, and succeeds", async () => {
    await second.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ yes: 1 }) }),
    );
    const ended = await endOf(second.sfn, asking);

    expect(ended.status).toBe("SUCCEEDED");
    expect(JSON.parse(ended.output ?? "").answer).toEqual({ yes: 1 });
    expect(invocations(log()).filter((i) => i.event.runId === "r1")).toHaveLength(1);
  });

  it("a build's processes left behind are killed, the build runs again, and the execution succeeds", async () => {
    const rebuilt = await pidIn(pidFile());
    const orphanAfterRestart = alive(orphan);
    await writeFile(gate(), "");
    const ended = await endOf(second.sfn, building);

    expect(orphanSurvivedTheKill).toBe(true);
    expect(orphanAfterRestart).toBe(false);
    expect(rebuilt).not.toBe(orphan);
    expect(ended.status).toBe("SUCCEEDED");
  });
});

describe("after a clean stop of the stand-in", () => {
  it("an execution continues at the next start, its stop neither recorded nor announced", async () => {
    // Prepare
    const stateDir = path.join(root, "clean");
    const log = path.join(stateDir, "invocations.log");
    const timing = { waitScale: 0.05 };
    const first = await startStandIn({ stateDir, machines: machines("waits"), timing, log });
    const executionArn = await startIn(first.sfn, "waits", "stopped-cleanly", { seconds: 20 });
    await reached(first.sfn, executionArn, "WaitStateEntered");
    const input = JSON.stringify({ seconds: 20 });

    // Act
    await first.stop();
    const second = await startStandIn({ stateDir, machines: machines("waits"), timing, log });
    const same = await second.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: second.engine.arnOf("waits"),
        name: "stopped-cleanly",
        input,
      }),
    );
    const clash = await second.sfn
      .send(
        new StartExecutionCommand({
          stateMachineArn: second.engine.arnOf("waits"),
          name: "stopped-cleanly",
          input: "{}",
        }),
      )
      .catch((err: unknown) => err);
    const ended = await endOf(second.sfn, executionArn);

    // Assess
    expect(same.executionArn).toBe(executionArn);
    expect(clash).toBeInstanceOf(ExecutionAlreadyExists);
    expect(ended.status).toBe("SUCCEEDED");
    expect(first.ended).toEqual([]);
    expect(second.ended.map((e) => e.status)).toEqual(["SUCCEEDED"]);
    const types = (await historyOf(second.sfn, executionArn)).map((e) => e.type);
    expect(types).not.toContain("ExecutionAborted");
    expect(types.filter((t) => t === "WaitStateEntered")).toHaveLength(1);
    await second.stop();
  });

  it("an execution that cannot continue ends FAILED with the reason, is announced, and can be redriven", async () => {
    // Prepare: the state it waits in is gone from the definition at the next start
    const { stateDir, log, executionArn } = await stoppedInAWait("gone", "lost-its-state", 3600);
    const { Pause: _gone, ...others } = MACHINES.waits.States;
    const changed = { ...MACHINES.waits, StartAt: "After", States: others };

    // Act
    const second = await startStandIn({ stateDir, machines: { waits: changed }, log });
    const ended = await endOf(second.sfn, executionArn);

    // Assess
    expect(ended).toMatchObject({
      status: "FAILED",
      error: "States.Runtime",
      redriveStatus: "REDRIVABLE",
    });
    expect(ended.cause).toContain("Pause");
    expect(second.ended).toEqual([
      expect.objectContaining({ executionArn, status: "FAILED", error: "States.Runtime" }),
    ]);
    await second.stop();
  });

  it("an execution whose journal is unreadable ends FAILED, saying so", async () => {
    // Prepare
    const { stateDir, log, executionArn } = await stoppedInAWait("unreadable", "scrambled", 3600);
    const dir = path.join(stateDir, "stepfunctions", "executions", "waits");
    expect(await readdir(dir)).toContain("scrambled.jsonl");
    await appendFile(path.join(dir, "scrambled.jsonl"), "{not json\n{}\n");

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });
    const ended = await endOf(second.sfn, executionArn);

    // Assess
    expect(ended).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(ended.cause).toContain("unreadable");
    await second.stop();
  });

  it("an execution whose summary line is unreadable ends FAILED, saying so, and the others go on", async () => {
    // Prepare: two executions in a Wait; the first one's only summary line is then scrambled
    const stateDir = path.join(root, "scrambled-summary");
    const log = path.join(stateDir, "invocations.log");
    const first = await startStandIn({ stateDir, machines: machines("waits"), log });
    const lost = await startIn(first.sfn, "waits", "lost", { seconds: 3600 });
    const kept = await startIn(first.sfn, "waits", "kept", { seconds: 1 });
    await reached(first.sfn, kept, "WaitStateEntered");
    await first.stop();
    const file = path.join(stateDir, "stepfunctions", "executions", "summaries.jsonl");
    await editSummaryLine(file, lost, () => "{not json");

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });

    // Assess
    const ended = await endOf(second.sfn, lost);
    expect(ended).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(ended.cause).toContain("summaries.jsonl are unreadable");
    expect(await endOf(second.sfn, kept)).toMatchObject({ status: "SUCCEEDED" });
    await second.stop();
  });

  it("a torn last line is cut before the next line is added, so a start acknowledged after it is kept", async () => {
    // Prepare: a torn summary line and a torn journal line, as a process killed mid-write leaves
    const { stateDir, log, executionArn: waiting } = await stoppedInAWait("torn", "waiting", 1);
    const executions = path.join(stateDir, "stepfunctions", "executions");
    await appendFile(path.join(executions, "summaries.jsonl"), '{"executionArn":"arn:aws:sta');
    await appendFile(path.join(executions, "waits", "waiting.jsonl"), '{"k":"ev');

    // Act: a start after the torn lines, and another restart
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });
    const acked = await startIn(second.sfn, "waits", "acked", { seconds: 3600 });
    await reached(second.sfn, acked, "WaitStateEntered");
    expect(await endOf(second.sfn, waiting)).toMatchObject({ status: "SUCCEEDED" });
    await second.stop();
    const third = await startStandIn({ stateDir, machines: machines("waits"), log });

    // Assess: both kept, and the journal written on after its torn line reads whole
    const described = await third.sfn.send(new DescribeExecutionCommand({ executionArn: acked }));
    expect(described.status).toBe("RUNNING");
    const history = await historyOf(third.sfn, waiting);
    expect(history.at(-1)?.type).toBe("ExecutionSucceeded");
    await third.stop();
  });

  it("a redrive after a restart writes on from a torn journal line of an ended execution", async () => {
    // Prepare: an execution that failed, its journal then torn at its end
    const stateDir = path.join(root, "torn-ended");
    const log = path.join(stateDir, "invocations.log");
    const timing = { retryScale: 0 };
    const file = path.join(stateDir, "fixed");
    const first = await startStandIn({ stateDir, machines: machines("flaky"), timing, log });
    const executionArn = await startIn(first.sfn, "flaky", "torn", { file });
    expect(await endOf(first.sfn, executionArn)).toMatchObject({ status: "FAILED" });
    await first.stop();
    const journal = path.join(stateDir, "stepfunctions", "executions", "flaky", "torn.jsonl");
    await appendFile(journal, '{"k":"event","event":{"id":');
    await writeFile(file, "");

    // Act
    const second = await startStandIn({ stateDir, machines: machines("flaky"), timing, log });
    await second.sfn.send(new RedriveExecutionCommand({ executionArn }));
    const redriven = await endOf(second.sfn, executionArn);
    const history = await historyOf(second.sfn, executionArn);
    await second.stop();
    const third = await startStandIn({ stateDir, machines: machines("flaky"), timing, log });

    // Assess
    expect(redriven).toMatchObject({ status: "SUCCEEDED", redriveCount: 1 });
    expect(history.map((e) => e.type)).toContain("ExecutionRedriven");
    expect((await historyOf(third.sfn, executionArn)).at(-1)?.type).toBe("ExecutionSucceeded");
    await third.stop();
  });

  it("an execution goes on under its new ARN when the stack's region changed meanwhile", async () => {
    // Prepare
    const { stateDir, log, executionArn: before } = await stoppedInAWait("moved", "moved", 1);

    // Act
    const region = "eu-west-1";
    const second = await startStandIn({ stateDir, machines: machines("waits"), log, region });

    // Assess
    const after = before.replace(":us-east-1:", `:${region}:`);
    expect(await endOf(second.sfn, after)).toMatchObject({
      status: "SUCCEEDED",
      stateMachineArn: second.engine.arnOf("waits"),
    });
    await second.stop();
  });

  it("a summary line that another ran on from is blamed on neither, and neither is dropped", async () => {
    // Prepare: the waiting one's line, as if run on from a torn line of the one that ended
    const { stateDir, log, ended, waiting, summaries } = await oneEndedOneWaiting("run-on");
    await editSummaryLine(summaries, waiting, (line) => `{"executionArn":"${ended}","na${line}`);

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });

    // Assess: the one whose summary is lost ends FAILED, saying so; the other is as it was
    expect(await endOf(second.sfn, waiting)).toMatchObject({ status: "FAILED" });
    expect(await endOf(second.sfn, ended)).toMatchObject({ status: "SUCCEEDED" });
    await second.stop();
  });

  it("an end whose summary line is unreadable is taken from its journal, and other unacknowledged starts are still dropped", async () => {
    // Prepare: the ended one's last summary line scrambled, a good line after it
    const { stateDir, log, ended, waiting, summaries } = await oneEndedOneWaiting("scrambled-end");
    await editSummaryLine(summaries, ended, (line) => line.slice(0, -20));
    // A start the process died in: its journal written, its summary not.
    const phantom = waiting.replace(/:waiting$/, ":phantom");
    const journals = path.join(path.dirname(summaries), "waits");
    const started = await readFile(path.join(journals, "waiting.jsonl"), "utf8");
    await writeFile(path.join(journals, "phantom.jsonl"), started.split("\n")[0] ?? "");

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });

    // Assess
    expect(await endOf(second.sfn, ended)).toMatchObject({ status: "SUCCEEDED" });
    const described = await second.sfn.send(
      new DescribeExecutionCommand({ executionArn: waiting }),
    );
    expect(described.status).toBe("RUNNING");
    await expect(
      second.sfn.send(new DescribeExecutionCommand({ executionArn: phantom })),
    ).rejects.toThrow(/Does Not Exist/);
    await second.stop();
  });

  it("an execution kept by an earlier version, in a folder of its own, continues", async () => {
    // Prepare: an execution in a Wait, its folder then laid out as before summaries.jsonl
    const { stateDir, log, executionArn } = await stoppedInAWait("legacy", "legacy", 1);
    const executions = path.join(stateDir, "stepfunctions", "executions");
    const summaries = await readFile(path.join(executions, "summaries.jsonl"), "utf8");
    const folder = path.join(executions, "waits", "legacy");
    await mkdir(folder);
    await rename(`${folder}.jsonl`, path.join(folder, "journal.jsonl"));
    await writeFile(path.join(folder, "execution.json"), summaries.split("\n")[0] ?? "");
    await rm(path.join(executions, "summaries.jsonl"));

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), log });

    // Assess
    expect(await endOf(second.sfn, executionArn)).toMatchObject({ status: "SUCCEEDED" });
    // One history, read on from the folder's journal: started once, the Wait entered once.
    const types = (await historyOf(second.sfn, executionArn)).map((e) => e.type);
    expect(types.filter((t) => t === "ExecutionStarted")).toHaveLength(1);
    expect(types.filter((t) => t === "WaitStateEntered")).toHaveLength(1);
    await second.stop();
  });

  it("an end not yet announced is announced at the next start, and an announced one is not", async () => {
    // Prepare: a listener that fails the first announcement of one end
    const stateDir = path.join(root, "announce");
    const log = path.join(stateDir, "invocations.log");
    const timing = { waitScale: 0 };
    const first = await startStandIn({ stateDir, machines: machines("waits"), timing, log });
    first.engine.onEnded(async (change) => {
      if (change.name === "untold") throw new Error("the bus is down");
    });
    const untold = await startIn(first.sfn, "waits", "untold", { seconds: 1 });
    const told = await startIn(first.sfn, "waits", "told", { seconds: 1 });
    await endOf(first.sfn, untold);
    await endOf(first.sfn, told);
    await first.stop();

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), timing, log });
    await second.engine.drain();

    // Assess
    expect(second.ended.map((e) => [e.name, e.status])).toEqual([["untold", "SUCCEEDED"]]);
    await second.stop();
  });

  it("a start keeps one summary line an execution, however many changes added lines", async () => {
    // Prepare: two executions that started and ended, two lines each, then a torn third
    const stateDir = path.join(root, "summary-lines");
    const log = path.join(stateDir, "invocations.log");
    const timing = { waitScale: 0 };
    const first = await startStandIn({ stateDir, machines: machines("waits"), timing, log });
    const one = await startIn(first.sfn, "waits", "one", { seconds: 1 });
    const two = await startIn(first.sfn, "waits", "two", { seconds: 1 });
    await endOf(first.sfn, one);
    await endOf(first.sfn, two);
    await first.stop();
    const file = path.join(stateDir, "stepfunctions", "executions", "summaries.jsonl");
    await appendFile(file, '{"executionArn":"arn:aws:states:us-east-1');
    const lines = async () => (await readFile(file, "utf8")).split("\n").filter(Boolean);
    expect(await lines()).toHaveLength(5);

    // Act
    const second = await startStandIn({ stateDir, machines: machines("waits"), timing, log });

    // Assess
    const summaries = (await lines()).map((l) => JSON.parse(l) as { name: string; status: string });
    expect(summaries.map((s) => [s.name, s.status]).sort()).toEqual([
      ["one", "SUCCEEDED"],
      ["two", "SUCCEEDED"],
    ]);
    expect(await endOf(second.sfn, two)).toMatchObject({ status: "SUCCEEDED" });
    await second.stop();
  });
});
