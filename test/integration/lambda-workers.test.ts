import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LambdaRuntime } from "../../local/lambda-runtime";
import type { LocalFunction } from "../../local/serverless-config";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { api, waitFor } from "../support/local-stack";
import { appWithSecret, deliver, pushSample, signedDelivery } from "../support/webhooks";

const SUPPORT = path.resolve(import.meta.dirname, "../support");

function fixture(exportName: string, file: string, timeoutSeconds = 30): [string, LocalFunction] {
  return [
    exportName,
    { name: exportName, modulePath: path.join(SUPPORT, file), exportName, timeoutSeconds },
  ];
}

describe("the local Lambda runtime on worker threads", () => {
  const lambdas = new LambdaRuntime(
    new Map([
      fixture("record", "sfn-functions.ts"),
      fixture("boom", "sfn-functions.ts"),
      fixture("hang", "lambda-fixtures.ts", 0.2),
      fixture("envOf", "lambda-fixtures.ts"),
      fixture("pause", "lambda-fixtures.ts"),
      fixture("threadOf", "lambda-fixtures.ts"),
    ]),
    "us-east-1",
    "000000000000",
    { workers: 2 },
  );
  afterAll(() => lambdas.stop());

  it("hands the handler's result back, and runs invocations on up to its threads", async () => {
    const results = await Promise.all([1, 2, 3].map((n) => lambdas.invoke("record", { n })));

    expect(results).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(lambdas.threads).toBe(2);
  });

  it("runs a function again where it is warm, not where it would load anew", async () => {
    // The first thread counts as busy until pause answers, so the function loads on the second.
    const busy = lambdas.invoke("pause", { ms: 0 });
    const warm = await lambdas.invoke("threadOf", {});
    await busy;

    const again = [];
    for (let i = 0; i < 3; i++) again.push(await lambdas.invoke("threadOf", {}));

    expect(again).toEqual([warm, warm, warm]);
  });

  it("uses an idle thread before it starts another, even one that would load the handler", async () => {
    const three = new LambdaRuntime(
      new Map([fixture("pause", "lambda-fixtures.ts"), fixture("threadOf", "lambda-fixtures.ts")]),
      "us-east-1",
      "000000000000",
      { workers: 3 },
    );
    try {
      // Two threads: pause warm on the first, threadOf on the second.
      await Promise.all([three.invoke("pause", { ms: 0 }), three.invoke("threadOf", {})]);
      const busy = three.invoke("pause", { ms: 0 });
      await three.invoke("pause", { ms: 0 });
      await busy;

      expect(three.threads).toBe(2);
    } finally {
      await three.stop();
    }
  });

  it("keeps a failure's name, which Step Functions' Retry and Catch match on", async () => {
    const failure = await lambdas.invoke("boom", {}).catch((err: Error) => err);

    expect(failure).toMatchObject({
      name: "Boom",
      errorType: "Boom",
      errorMessage: "it went boom",
    });
  });

  it("ends an invocation at the function's timeout as Sandbox.Timedout", async () => {
    const failure = await lambdas.invoke("hang", {}).catch((err: Error) => err);

    expect(failure).toMatchObject({ name: "Sandbox.Timedout" });
  });

  it("shows handlers this process's environment, also what is set after the threads started", async () => {
    process.env.SLUICE_WORKER_PROBE = "seen";

    expect(await lambdas.invoke("envOf", { name: "SLUICE_WORKER_PROBE" })).toBe("seen");
  });
});

describe("a local stack whose handlers run on worker threads", () => {
  let stateDir: string;
  let stack: LocalStack;
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "sluice-workers-"));
    stack = await startLocalStack({
      stateDir,
      logLevel: "error",
      lambdaWorkers: 2,
      serviceOptions: { stepFunctions: { retryScale: 0.01, waitScale: 0.0001 } },
    });
  });
  afterAll(async () => {
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  async function ended(id: string) {
    return waitFor(
      async () => {
        const { body } = await api(stack, "GET", `/runs/${id}`);
        return ["SUCCEEDED", "FAILED"].includes(body.status) ? body : undefined;
      },
      { what: `run ${id} to end`, timeoutMs: 30_000 },
    );
  }

  it("takes a webhook push and runs its pipeline to SUCCEEDED", async () => {
    const app = await appWithSecret(stack, "threaded", "executionMode: parallel\n");

    const res = await deliver(
      stack,
      app.name,
      signedDelivery(pushSample("github", "branch"), app.secret),
    );
    expect(res.status).toBe(202);
    expect(res.body.started).toBe(true);

    expect((await ended(res.body.runId)).status).toBe("SUCCEEDED");
    expect(stack.lambdas.threads).toBeGreaterThan(0);
  });

  it("retries a step's transient failure by its error name, and the run still succeeds", async () => {
    await api(stack, "PUT", "/apps/throttled", "executionMode: parallel\n");
    // Two tries of the first step's task fail (the SDK tries three times a call), so only
    // Step Functions' Retry of Sluice.Transient, matched on the name the worker sent, saves it.
    stack.faults.inject({
      service: "dynamodb",
      operation: "TransactWriteItems",
      times: 6,
      error: { type: "InternalServerError", status: 500 },
      after: { service: "stepFunctions", operation: "StartExecution" },
    });
    const created = await api(stack, "POST", "/apps/throttled/runs", {
      revision: { type: "git", commit: "d".repeat(40) },
    });
    expect(created.status).toBe(202);

    expect((await ended(created.body.id)).status).toBe("SUCCEEDED");
    expect(stack.faults.injected.filter((c) => c === "dynamodb:TransactWriteItems")).toHaveLength(
      6,
    );
  });

  it("ends every worker thread when it stops", async () => {
    await stack.stop();

    expect(stack.lambdas.threads).toBe(0);
  });
});
