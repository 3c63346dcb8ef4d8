import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  InvalidFormatFault,
  InvalidNextToken,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  ResourceNotFound,
  SetAlarmStateCommand,
  ValidationException,
} from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalCloudWatch } from "../../local/cloudwatch/alarms";
import type { BusEvent, PutEventsEntry } from "../../local/eventbridge";
import { portsOf, startTestStack, waitFor } from "../support/local-stack";

const ARN = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:";

function alarm(name: string, extra: Partial<PutMetricAlarmCommandInput> = {}) {
  return new PutMetricAlarmCommand({
    AlarmName: name,
    AlarmDescription: `5xx of ${name}`,
    Namespace: "Hello",
    MetricName: "Errors",
    Dimensions: [{ Name: "Stage", Value: "prod" }],
    Statistic: "Sum",
    Period: 60,
    EvaluationPeriods: 2,
    Threshold: 5,
    ComparisonOperator: "GreaterThanOrEqualToThreshold",
    ...extra,
  });
}

async function formPost(endpoint: string, params: Record<string, string>) {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: new URLSearchParams({ Version: "2010-08-01", ...params }).toString(),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

describe("the CloudWatch alarms stand-in, through the AWS SDK", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let cloudWatch: CloudWatchClient;
  let stateDir: string;
  const events: BusEvent[] = [];
  const subscribe = (s: typeof stack) =>
    s.eventBridge.subscribe((event) => {
      if (event.source === "aws.cloudwatch") events.push(event);
    });
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "sluice-cloudwatch-"));
    stack = await startTestStack(stateDir);
    subscribe(stack);
    cloudWatch = new CloudWatchClient({});
  });
  afterAll(async () => {
    await stack.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    events.length = 0;
  });

  it("creates alarms in INSUFFICIENT_DATA and describes them by name, prefix and state", async () => {
    // Prepare
    await cloudWatch.send(alarm("shop-wave-1"));
    await cloudWatch.send(alarm("shop-wave-2", { ActionsEnabled: false }));
    await cloudWatch.send(alarm("other-latency"));
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: "shop-wave-2",
        StateValue: "OK",
        StateReason: "quiet",
      }),
    );

    // Act
    const byName = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: ["shop-wave-1"] }),
    );
    const byPrefix = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "shop-" }));
    const byState = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: "shop-", StateValue: "OK" }),
    );

    // Assess
    expect(byName.MetricAlarms).toEqual([
      {
        AlarmName: "shop-wave-1",
        AlarmArn: `${ARN}shop-wave-1`,
        AlarmDescription: "5xx of shop-wave-1",
        AlarmConfigurationUpdatedTimestamp: expect.any(Date),
        ActionsEnabled: true,
        OKActions: [],
        AlarmActions: [],
        InsufficientDataActions: [],
        StateValue: "INSUFFICIENT_DATA",
        StateReason: "Unchecked: Initial alarm creation",
        StateUpdatedTimestamp: expect.any(Date),
        StateTransitionedTimestamp: expect.any(Date),
        Namespace: "Hello",
        MetricName: "Errors",
        Dimensions: [{ Name: "Stage", Value: "prod" }],
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 2,
        Threshold: 5,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      },
    ]);
    expect(byName.CompositeAlarms).toEqual([]);
    expect(byPrefix.MetricAlarms?.map((a) => a.AlarmName)).toEqual(["shop-wave-1", "shop-wave-2"]);
    expect(byState.MetricAlarms?.map((a) => [a.AlarmName, a.ActionsEnabled])).toEqual([
      ["shop-wave-2", false],
    ]);
  });

  it("keeps an alarm's state when PutMetricAlarm updates it, and deletes alarms", async () => {
    // Prepare
    await cloudWatch.send(alarm("update-me"));
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: "update-me", StateValue: "ALARM", StateReason: "hot" }),
    );

    // Act
    await cloudWatch.send(alarm("update-me", { Threshold: 50 }));
    const updated = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ["update-me"] }));
    await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ["update-me"] }));
    const deleted = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ["update-me"] }));

    // Assess
    expect(updated.MetricAlarms?.[0]).toMatchObject({
      Threshold: 50,
      StateValue: "ALARM",
      StateReason: "hot",
    });
    expect(deleted.MetricAlarms).toEqual([]);
  });

  it("pages DescribeAlarms in name order with NextToken and MaxRecords", async () => {
    // Prepare
    for (const n of [3, 1, 5, 2, 4]) await cloudWatch.send(alarm(`page-${n}`));

    // Act
    const names: string[][] = [];
    let NextToken: string | undefined;
    do {
      const page = await cloudWatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: "page-", MaxRecords: 2, NextToken }),
      );
      names.push((page.MetricAlarms ?? []).map((a) => a.AlarmName ?? ""));
      NextToken = page.NextToken;
    } while (NextToken);

    // Assess
    expect(names).toEqual([["page-1", "page-2"], ["page-3", "page-4"], ["page-5"]]);
    await expect(
      cloudWatch.send(new DescribeAlarmsCommand({ NextToken: "not-a-token" })),
    ).rejects.toBeInstanceOf(InvalidNextToken);
  });

  it("puts one CloudWatch Alarm State Change event on the default bus per change of state", async () => {
    // Prepare
    await cloudWatch.send(alarm("events-wave-1"));
    const set = (StateValue: "OK" | "ALARM", StateReason: string, StateReasonData?: string) =>
      cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: "events-wave-1",
          StateValue,
          StateReason,
          ...(StateReasonData ? { StateReasonData } : {}),
        }),
      );

    // Act
    await set("ALARM", "errors climbed", '{"recentDatapoints":[9]}');
    await set("ALARM", "still climbing");
    await set("OK", "recovered");

    // Assess
    await waitFor(async () => (events.length >= 2 ? true : undefined), { what: "two events" });
    expect(events.map((e) => e.detail)).toHaveLength(2);
    const [alarmed, recovered] = events;
    const configuration = {
      description: "5xx of events-wave-1",
      metrics: [
        {
          id: expect.any(String),
          metricStat: {
            metric: { dimensions: { Stage: "prod" }, name: "Errors", namespace: "Hello" },
            period: 60,
            stat: "Sum",
          },
          returnData: true,
        },
      ],
    };
    const timestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(alarmed).toEqual({
      version: "0",
      id: expect.any(String),
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account: "000000000000",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: "us-east-1",
      resources: [`${ARN}events-wave-1`],
      "event-bus-name": "default",
      detail: {
        alarmName: "events-wave-1",
        state: {
          value: "ALARM",
          reason: "errors climbed",
          reasonData: '{"recentDatapoints":[9]}',
          timestamp,
        },
        previousState: {
          value: "INSUFFICIENT_DATA",
          reason: "Unchecked: Initial alarm creation",
          timestamp,
        },
        configuration,
      },
    });
    expect(recovered?.detail).toEqual({
      alarmName: "events-wave-1",
      state: { value: "OK", reason: "recovered", timestamp },
      // The second SetAlarmState to ALARM changed no state, only its reason.
      previousState: { value: "ALARM", reason: "still climbing", timestamp },
      configuration,
    });
  });

  it("answers DescribeAlarmHistory with the state updates, newest first unless asked", async () => {
    // Prepare
    await cloudWatch.send(alarm("history-1"));
    for (const [StateValue, StateReason] of [
      ["ALARM", "one"],
      ["OK", "two"],
    ] as const) {
      await cloudWatch.send(
        new SetAlarmStateCommand({ AlarmName: "history-1", StateValue, StateReason }),
      );
    }

    // Act
    const newest = await cloudWatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: "history-1", HistoryItemType: "StateUpdate" }),
    );
    const oldest = await cloudWatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: "history-1",
        ScanBy: "TimestampAscending",
        MaxRecords: 1,
      }),
    );

    // Assess
    expect(newest.AlarmHistoryItems?.map((i) => i.HistorySummary)).toEqual([
      "Alarm updated from ALARM to OK",
      "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]);
    expect(oldest.AlarmHistoryItems).toEqual([
      {
        AlarmName: "history-1",
        AlarmType: "MetricAlarm",
        Timestamp: expect.any(Date),
        HistoryItemType: "StateUpdate",
        HistorySummary: "Alarm updated from INSUFFICIENT_DATA to ALARM",
        HistoryData: JSON.stringify({
          version: "1.0",
          oldState: {
            stateValue: "INSUFFICIENT_DATA",
            stateReason: "Unchecked: Initial alarm creation",
          },
          newState: { stateValue: "ALARM", stateReason: "one" },
        }),
      },
    ]);
    expect(oldest.NextToken).toEqual(expect.any(String));
  });

  it("fails as CloudWatch does, with the SDK's exception classes", async () => {
    // Prepare
    await cloudWatch.send(alarm("errors-1"));
    const set = (input: Partial<ConstructorParameters<typeof SetAlarmStateCommand>[0]>) =>
      cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: "errors-1",
          StateValue: "ALARM",
          StateReason: "x",
          ...input,
        }),
      );

    // Act
    const unknown = set({ AlarmName: "no-such-alarm" });
    const badState = set({ StateValue: "RED" as "OK" });
    const badData = set({ StateReasonData: "{not json" });
    const deleteUnknown = cloudWatch.send(
      new DeleteAlarmsCommand({ AlarmNames: ["errors-1", "no-such-alarm"] }),
    );

    // Assess
    await expect(unknown).rejects.toBeInstanceOf(ResourceNotFound);
    await expect(unknown).rejects.toMatchObject({ message: "Alarm no-such-alarm not found" });
    await expect(badState).rejects.toBeInstanceOf(ValidationException);
    await expect(badState).rejects.toMatchObject({
      message:
        "1 validation error detected: Value 'RED' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]",
    });
    await expect(badData).rejects.toBeInstanceOf(InvalidFormatFault);
    await expect(deleteUnknown).rejects.toBeInstanceOf(ResourceNotFound);
    const kept = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ["errors-1"] }));
    expect(kept.MetricAlarms?.[0]?.StateValue).toBe("INSUFFICIENT_DATA");
  });

  it("answers a call with the error a test injects, which the SDK retries", async () => {
    // Prepare
    await cloudWatch.send(alarm("faulty"));
    stack.faults.inject({
      service: "cloudwatch",
      operation: "SetAlarmState",
      times: 1,
      error: { type: "InternalServiceFault", status: 500 },
    });

    // Act
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: "faulty", StateValue: "ALARM", StateReason: "x" }),
    );

    // Assess
    expect(stack.faults.injected).toContain("cloudwatch:SetAlarmState");
    expect(stack.services.cloudwatch.get("faulty")?.StateValue).toBe("ALARM");
  });

  it("speaks the query protocol the AWS CLI sends: form-encoded in, CloudWatch's XML out", async () => {
    // Act
    const put = await formPost(stack.endpoints.cloudwatch, {
      Action: "PutMetricAlarm",
      AlarmName: "query-1",
      Namespace: "Hello",
      MetricName: "Errors",
      "Dimensions.member.1.Name": "Stage",
      "Dimensions.member.1.Value": "gamma",
      "AlarmActions.member.1": "arn:aws:sns:us-east-1:000000000000:pager",
      Statistic: "Maximum",
      Period: "300",
      EvaluationPeriods: "1",
      Threshold: "2.5",
      ComparisonOperator: "GreaterThanThreshold",
      ActionsEnabled: "false",
    });
    const set = await formPost(stack.endpoints.cloudwatch, {
      Action: "SetAlarmState",
      AlarmName: "query-1",
      StateValue: "ALARM",
      StateReason: "by <hand> & form",
    });
    const described = await formPost(stack.endpoints.cloudwatch, {
      Action: "DescribeAlarms",
      "AlarmNames.member.1": "query-1",
    });
    const missing = await formPost(stack.endpoints.cloudwatch, {
      Action: "SetAlarmState",
      AlarmName: "no-such-alarm",
      StateValue: "OK",
      StateReason: "x",
    });
    const unknownAction = await formPost(stack.endpoints.cloudwatch, { Action: "PutDashboard" });

    // Assess
    expect(put.status).toBe(200);
    expect(put.body).toMatch(
      /^<PutMetricAlarmResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><ResponseMetadata><RequestId>[\w-]+<\/RequestId><\/ResponseMetadata><\/PutMetricAlarmResponse>$/,
    );
    expect(set.status).toBe(200);
    expect(described.type).toBe("text/xml");
    for (const fragment of [
      "<DescribeAlarmsResponse",
      "<DescribeAlarmsResult><MetricAlarms><member><AlarmName>query-1</AlarmName>",
      "<ActionsEnabled>false</ActionsEnabled>",
      "<AlarmActions><member>arn:aws:sns:us-east-1:000000000000:pager</member></AlarmActions>",
      "<StateValue>ALARM</StateValue><StateReason>by &lt;hand&gt; &amp; form</StateReason>",
      "<Dimensions><member><Name>Stage</Name><Value>gamma</Value></member></Dimensions>",
      "<Period>300</Period>",
      "<Threshold>2.5</Threshold>",
    ]) {
      expect(described.body).toContain(fragment);
    }
    expect(described.body).toMatch(/<StateUpdatedTimestamp>\d{4}-\d\d-\d\dT[\d:.]+Z</);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(
      /^<ErrorResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><Error><Type>Sender<\/Type><Code>ResourceNotFound<\/Code><Message>Alarm no-such-alarm not found<\/Message><\/Error><RequestId>[\w-]+<\/RequestId><\/ErrorResponse>$/,
    );
    expect(unknownAction.body).toContain("<Code>InvalidAction</Code>");
    expect(events.map((e) => e.resources)).toEqual([[`${ARN}query-1`]]);
  });

  it("keeps alarms, their states and history across a restart", async () => {
    // Prepare
    await cloudWatch.send(alarm("restart-1"));
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: "restart-1",
        StateValue: "ALARM",
        StateReason: "kept",
      }),
    );
    const ports = portsOf(stack);
    await stack.stop();

    // Act
    stack = await startTestStack(stateDir, ports);
    subscribe(stack);
    const described = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: ["restart-1"] }),
    );
    const history = await cloudWatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: "restart-1" }),
    );

    // Assess
    expect(described.MetricAlarms?.[0]).toMatchObject({
      AlarmArn: `${ARN}restart-1`,
      StateValue: "ALARM",
      StateReason: "kept",
    });
    expect(history.AlarmHistoryItems).toHaveLength(1);
    expect(stack.services.cloudwatch.list("restart-").map((a) => a.AlarmName)).toEqual([
      "restart-1",
    ]);
  });
});

describe("LocalCloudWatch, started again after a crash", () => {
  it("puts the state changes whose events may not have reached the bus", async () => {
    // Prepare: a change recorded, then the process dies before its event is put.
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-cloudwatch-crash-"));
    try {
      const put: PutEventsEntry[] = [];
      const first = await LocalCloudWatch.open(dir, "us-east-1", "000000000000", async () => {
        throw new Error("the process died");
      });
      await first.operations.PutMetricAlarm?.({
        AlarmName: "crashed",
        Namespace: "Hello",
        MetricName: "Errors",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
      });
      await first.setAlarmState({ AlarmName: "crashed", StateValue: "ALARM", StateReason: "x" });

      // Act
      const second = await LocalCloudWatch.open(dir, "us-east-1", "000000000000", async (e) => {
        put.push(...e);
      });
      await second.announcePending();
      await second.drain();
      const third = await LocalCloudWatch.open(dir, "us-east-1", "000000000000", async (e) => {
        put.push(...e);
      });
      await third.announcePending();

      // Assess
      expect(put.map((e) => [e.DetailType, e.Resources])).toEqual([
        ["CloudWatch Alarm State Change", [`${ARN}crashed`]],
      ]);
      expect(JSON.parse(put[0]?.Detail ?? "{}")).toMatchObject({
        state: { value: "ALARM" },
        previousState: { value: "INSUFFICIENT_DATA" },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
