import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortInUseError } from "../../local/local-service";
import { LOCAL_SERVICES } from "../../local/local-services";
import { api, startTestStack, waitFor } from "../support/local-stack";
import { freePorts, holdPort, isFree, release } from "../support/ports";

describe("the local stack, through the AWS SDK", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.cleanup());

  it("points each service's AWS_ENDPOINT_URL_<SERVICE> at it, in the stack's env and this process's", () => {
    for (const service of LOCAL_SERVICES) {
      if (!service.endpointVariable) continue;
      expect(stack.env[service.endpointVariable]).toBe(stack.endpoints[service.name]);
      expect(process.env[service.endpointVariable]).toBe(stack.endpoints[service.name]);
    }
    expect(stack.banner).toHaveLength(LOCAL_SERVICES.length);
  });

  it("creates the table from serverless.yml, with its key schema and index", async () => {
    const dynamo = new DynamoDBClient({});
    const { TableNames } = await dynamo.send(new ListTablesCommand({}));
    const { Table } = await dynamo.send(
      new DescribeTableCommand({ TableName: stack.resources.table }),
    );

    expect(TableNames).toContain(stack.resources.table);
    expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(["pk", "sk"]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(["byApp", "byList"]);
  });

  it("serves the releases bucket, path-style", async () => {
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({ Bucket: stack.resources.releasesBucket, Key: "a/1.zip", Body: "zip" }),
    );

    const { Buckets } = await s3.send(new ListBucketsCommand({}));
    const got = await s3.send(
      new GetObjectCommand({ Bucket: stack.resources.releasesBucket, Key: "a/1.zip" }),
    );

    expect(Buckets?.map((b) => b.Name)).toContain(stack.resources.releasesBucket);
    expect(await got.Body?.transformToString()).toBe("zip");
  });

  it("appends put events to the event log, and refuses events for an unknown bus", async () => {
    const events = new EventBridgeClient({});
    const entry = { Source: "test", DetailType: "Probe", Detail: JSON.stringify({ n: 1 }) };

    const ok = await events.send(
      new PutEventsCommand({ Entries: [{ ...entry, EventBusName: stack.resources.eventBus }] }),
    );
    const refused = await events.send(
      new PutEventsCommand({ Entries: [{ ...entry, EventBusName: "nope" }] }),
    );

    expect(ok.FailedEntryCount).toBe(0);
    expect(refused.FailedEntryCount).toBe(1);
    expect(refused.Entries?.[0]?.ErrorCode).toBe("NotFound");
    const logged = (await stack.eventBridge.read()).filter((e) => e.source === "test");
    expect(logged).toEqual([
      expect.objectContaining({
        id: ok.Entries?.[0]?.EventId,
        "detail-type": "Probe",
        detail: { n: 1 },
      }),
    ]);
  });

  describe("Step Functions", () => {
    const sfn = () => new SFNClient({});

    it("runs the pipeline ASL, answers DescribeExecution and GetExecutionHistory, and refuses a reused name", async () => {
      // Prepare: a registered app and a run record, so the pipeline's tasks have something to update.
      await api(stack, "PUT", "/apps/sfn-probe", "");
      const created = await api(stack, "POST", "/apps/sfn-probe/runs", {
        revision: { type: "git", commit: "a".repeat(40) },
      });
      const arn: string = created.body.executionArn;

      // Act: the execution starts moments after the answer, when the stream lets the run in
      const described = await waitFor(async () => {
        const d = await sfn()
          .send(new DescribeExecutionCommand({ executionArn: arn }))
          .catch((err: unknown) => {
            if (err instanceof ExecutionDoesNotExist) return undefined;
            throw err;
          });
        return d === undefined || d.status === "RUNNING" ? undefined : d;
      });
      const history = await sfn().send(new GetExecutionHistoryCommand({ executionArn: arn }));
      const listed = await sfn().send(
        new ListExecutionsCommand({ stateMachineArn: stack.resources.pipelineArn }),
      );
      const again = sfn().send(
        new StartExecutionCommand({
          stateMachineArn: stack.resources.pipelineArn,
          name: created.body.id,
          input: "{}",
        }),
      );

      // Assess
      expect(described.status).toBe("SUCCEEDED");
      expect(described.name).toBe(created.body.id);
      expect(described.startDate).toBeInstanceOf(Date);
      const types = history.events?.map((e) => e.type);
      expect(types?.[0]).toBe("ExecutionStarted");
      expect(types?.at(-1)).toBe("ExecutionSucceeded");
      const entered = history.events
        ?.filter((e) => e.type === "TaskStateEntered")
        .map((e) => e.stateEnteredEventDetails?.name);
      // The walk of a plan without a build: enter source, pin it, skip the build and end.
      expect(entered).toEqual(["NextStep", "Source", "NextStep"]);
      expect(listed.executions?.map((e) => e.executionArn)).toContain(arn);
      await expect(again).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    });

    it("ends an execution FAILED with the task's error when a task fails", async () => {
      const { executionArn } = await sfn().send(
        new StartExecutionCommand({
          stateMachineArn: stack.resources.pipelineArn,
          name: "no-such-run",
          input: JSON.stringify({ runId: "01JNH0000000000000000ZZZZZ", step: null, result: null }),
        }),
      );

      const described = await waitFor(async () => {
        const d = await sfn().send(new DescribeExecutionCommand({ executionArn }));
        return d.status === "RUNNING" ? undefined : d;
      });

      expect(described.status).toBe("FAILED");
      expect(described.error).toBe("Sluice.NotFound");
      expect(described.cause).toContain("run 01JNH0000000000000000ZZZZZ does not exist");
    });

    it("answers ExecutionDoesNotExist for an unknown execution", async () => {
      const missing = sfn().send(
        new DescribeExecutionCommand({
          executionArn: `${stack.resources.pipelineArn.replace("stateMachine", "execution")}:nope`,
        }),
      );
      await expect(missing).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    });
  });

  it("names the port and its variable when one is taken, and frees those it had taken", async () => {
    // Prepare: a port for each service, the HTTP API's (which starts last) held by another server
    const free = await freePorts(LOCAL_SERVICES.length);
    const ports = Object.fromEntries(LOCAL_SERVICES.map((s, i) => [s.name, free[i] ?? 0]));
    const holder = await holdPort(ports.api ?? 0);

    try {
      // Act
      const failed = await startTestStack(undefined, ports).catch((err: unknown) => err);

      // Assess
      expect(failed).toBeInstanceOf(PortInUseError);
      expect((failed as Error).message).toBe(
        `port ${ports.api} (SLUICE_API_PORT) is in use: stop what holds it or set SLUICE_API_PORT`,
      );
      const others = LOCAL_SERVICES.filter((s) => s.name !== "api").map((s) => ports[s.name] ?? 0);
      expect(await Promise.all(others.map(isFree))).toEqual(others.map(() => true));
    } finally {
      await release(holder);
    }
  });
});
