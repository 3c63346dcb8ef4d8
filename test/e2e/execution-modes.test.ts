import { rm } from "node:fs/promises";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { makeGitRepo } from "../support/git-repo";
import { BuildGate } from "../support/held-builds";
import {
  allRunsEnded,
  api,
  runStatuses,
  startTestStack,
  streamsTaken,
  waitFor,
} from "../support/local-stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commit: string };
let gate: BuildGate | undefined;

beforeAll(async () => {
  stack = await startTestStack();
  repo = await makeGitRepo({ "README.md": "held build\n" });
});
afterEach(async () => {
  await gate?.cleanup();
  gate = undefined;
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

/** An app whose builds wait at a gate the test opens, so a run is in progress while more arrive. */
async function register(app: string, executionMode: string): Promise<BuildGate> {
  gate = await BuildGate.create();
  const definition = stringify({ repository: repo.dir, executionMode, build: gate.build });
  expect((await api(stack, "PUT", `/apps/${app}`, definition)).status).toBe(201);
  return gate;
}

async function startRuns(app: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await api(stack, "POST", `/apps/${app}/runs`, {
      revision: { type: "git", commit: repo.commit },
    });
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  return ids;
}

describe("execution modes over the local stack", () => {
  it("queued: runs one at a time, in the order they came", async () => {
    const held = await register("one-by-one", "queued");

    const ids = await startRuns("one-by-one", 3);
    const [first] = await held.waitForArrivals(1);
    await streamsTaken(stack);
    await streamsTaken(stack);
    const whileHeld = await runStatuses(stack, ids);
    await held.open();
    const runs = await allRunsEnded(stack, ids);

    expect(first?.runId).toBe(ids[0]);
    expect(whileHeld).toEqual(["RUNNING", "QUEUED", "QUEUED"]);
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    expect((await held.arrivals()).map((a) => a.runId)).toEqual(ids);
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].endedAt));
    }
  });

  it("superseded: the newest waiting change replaces the older ones", async () => {
    const held = await register("newest-wins", "superseded");

    const ids = await startRuns("newest-wins", 4);
    await held.waitForArrivals(1);
    await streamsTaken(stack);
    await streamsTaken(stack);
    const whileHeld = await runStatuses(stack, ids);
    await held.open();
    const runs = await allRunsEnded(stack, ids);

    expect(whileHeld).toEqual(["RUNNING", "SUPERSEDED", "SUPERSEDED", "QUEUED"]);
    expect(runs.map((r) => r.status)).toEqual([
      "SUCCEEDED",
      "SUPERSEDED",
      "SUPERSEDED",
      "SUCCEEDED",
    ]);
    expect(runs[1].error.cause).toContain(runs[2].id);
    expect(runs[2].error.cause).toContain(runs[3].id);
    expect((await held.arrivals()).map((a) => a.runId)).toEqual([ids[0], ids[3]]);
    expect(Date.parse(runs[3].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].endedAt));
  });

  it("parallel: every run starts without waiting for the others", async () => {
    const held = await register("all-at-once", "parallel");

    const ids = await startRuns("all-at-once", 3);
    // Every build is under way at once, none of them able to finish until the gate opens.
    const arrivals = await held.waitForArrivals(3);
    await held.open();
    const runs = await allRunsEnded(stack, ids);

    expect(arrivals.map((a) => a.runId).sort()).toEqual([...ids].sort());
    expect(runs.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    const lastStart = Math.max(...runs.map((r) => Date.parse(r.startedAt)));
    const firstEnd = Math.min(...runs.map((r) => Date.parse(r.endedAt)));
    expect(lastStart).toBeLessThan(firstEnd);
  });
});

describe("a run whose pipeline execution ends without it", () => {
  it("is ended as FAILED when its execution is stopped, and the next queued run starts", async () => {
    // Prepare: a queued app whose first run is held in its build, a second waiting
    const held = await register("stopped-midway", "queued");
    const [first = "", second = ""] = await startRuns("stopped-midway", 2);
    await held.waitForArrivals(1);
    const { executionArn } = (await api(stack, "GET", `/runs/${first}`)).body;

    // Act: someone stops the execution in the Step Functions console (or it times out)
    await new SFNClient({}).send(new StopExecutionCommand({ executionArn }));
    const stopped = await waitFor(
      async () => {
        const { body } = await api(stack, "GET", `/runs/${first}`);
        return body.status === "FAILED" ? body : undefined;
      },
      { what: "the stopped run to be ended" },
    );
    await held.open();
    const [, next] = await allRunsEnded(stack, [first, second]);

    // Assess
    expect(stopped.error).toEqual({
      error: "ExecutionEnded",
      cause: "its pipeline execution ended (ABORTED) without recording the run's end",
    });
    expect(stopped.stages).toContainEqual(
      expect.objectContaining({
        name: "build",
        status: "FAILED",
        message: `ExecutionEnded: ${stopped.error.cause}`,
      }),
    );
    expect(next.status).toBe("SUCCEEDED");
    const failed = (await stack.eventBridge.read()).filter(
      (e) => e["detail-type"] === "Run Failed" && (e.detail as { runId: string }).runId === first,
    );
    expect(failed).toHaveLength(1);
  });

  it("is not ended by a forged status change put through the EventBridge API", async () => {
    // Prepare: a run held in its build
    const held = await register("forged-end", "queued");
    const [id = ""] = await startRuns("forged-end", 1);
    await held.waitForArrivals(1);
    const { executionArn } = (await api(stack, "GET", `/runs/${id}`)).body;

    // Act: someone puts on the default bus the event Step Functions puts when an execution fails
    const put = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "aws.states",
            DetailType: "Step Functions Execution Status Change",
            Resources: [executionArn],
            Detail: JSON.stringify({
              executionArn,
              stateMachineArn: stack.resources.pipelineArn,
              name: id,
              status: "FAILED",
            }),
          },
          {
            Source: "test",
            DetailType: "Probe",
            Detail: "{}",
            EventBusName: stack.resources.eventBus,
          },
        ],
      }),
    );
    await held.open();
    const [run] = await allRunsEnded(stack, [id]);

    // Assess: only the forged entry is refused, and the run goes on to succeed
    expect(put.FailedEntryCount).toBe(1);
    expect(put.Entries?.[0]).toEqual({
      ErrorCode: "NotAuthorizedForSourceException",
      ErrorMessage: "Not authorized for the source.",
    });
    expect(put.Entries?.[1]?.EventId).toEqual(expect.any(String));
    expect(run.status).toBe("SUCCEEDED");
  });
});
