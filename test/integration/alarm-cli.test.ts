import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
} from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main";
import type { BusEvent } from "../../local/eventbridge";
import { startTestStack } from "../support/local-stack";

describe("sluice alarm, against the local stack", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const events: BusEvent[] = [];
  beforeAll(async () => {
    stack = await startTestStack();
    stack.eventBridge.subscribe((event) => {
      if (event.source === "aws.cloudwatch") events.push(event);
    });
    const cloudWatch = new CloudWatchClient({});
    for (const name of ["hello-wave-1", "hello-wave-2", "other"]) {
      await cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          Namespace: "Hello",
          MetricName: "Errors",
          Statistic: "Sum",
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: "GreaterThanOrEqualToThreshold",
        }),
      );
    }
  });
  afterAll(() => stack.cleanup());

  /** The CLI as a person runs it: only the endpoint in its environment, no AWS key pair. */
  async function sluice(...args: string[]) {
    const env = args.includes("--cloudwatch-endpoint")
      ? {}
      : { AWS_ENDPOINT_URL_CLOUDWATCH: stack.endpoints.cloudwatch };
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      env,
    });
    return { code, stdout: out.join(""), stderr: err.join("") };
  }

  it("sets an alarm's state, which CloudWatch announces on the default bus", async () => {
    const set = await sluice(
      "alarm",
      "set",
      "hello-wave-1",
      "--state",
      "ALARM",
      "--reason",
      "by hand",
    );

    expect(set).toEqual({ code: 0, stdout: "alarm hello-wave-1 ALARM\n", stderr: "" });
    const { MetricAlarms } = await new CloudWatchClient({}).send(
      new DescribeAlarmsCommand({ AlarmNames: ["hello-wave-1"] }),
    );
    expect(MetricAlarms?.[0]).toMatchObject({ StateValue: "ALARM", StateReason: "by hand" });
    expect(events.map((e) => [e.detail, e["event-bus-name"]])).toEqual([
      [expect.objectContaining({ alarmName: "hello-wave-1" }), "default"],
    ]);
  });

  it("lists alarms with their states, by prefix", async () => {
    await sluice("alarm", "set", "hello-wave-2", "--state", "OK");

    const listed = await sluice("alarm", "list", "--prefix", "hello-");
    const none = await sluice("alarm", "list", "--prefix", "nothing-");

    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^hello-wave-1 {2}ALARM {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}by hand\nhello-wave-2 {2}OK {5}\d{4}-\d\d-\d\dT[\d:.]+Z {2}set with sluice alarm set\n$/,
    );
    expect(none.stdout).toBe("no alarms named nothing-…\n");
  });

  it("takes --cloudwatch-endpoint, and says so when the alarm does not exist", async () => {
    const missing = await sluice(
      "--cloudwatch-endpoint",
      stack.endpoints.cloudwatch,
      "alarm",
      "set",
      "nope",
      "--state",
      "OK",
    );

    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: 'sluice: there is no alarm named "nope"\n',
    });
  });
});
