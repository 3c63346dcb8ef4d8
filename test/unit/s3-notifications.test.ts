import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LambdaRuntime } from "../../local/lambda-runtime";
import {
  BucketNotifier,
  encodeNotificationKey,
  lambdaNotifications,
} from "../../local/s3-notifications";
import { loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";

const BUCKET = "sluice-local-releases";

const logLevel = process.env.LOG_LEVEL;
beforeAll(() => {
  process.env.LOG_LEVEL = "warn";
});
afterAll(() => {
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
});

/** An event as s3rver emits it for a PutObject: key as uploaded, no version id. */
function emitted(key: string, { bucket = BUCKET, eventName = "ObjectCreated:Put" } = {}) {
  return {
    Records: [
      {
        eventVersion: "2.0",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: "2026-01-01T00:00:00.000Z",
        eventName,
        userIdentity: { principalId: "AWS:UPLOADER" },
        requestParameters: { sourceIPAddress: "127.0.0.1" },
        responseElements: { "x-amz-request-id": "REQ", "x-amz-id-2": "ID2" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "testConfigId",
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: "OWNER" },
            arn: "arn:aws:s3: : :x",
          },
          object: { key, size: 42, eTag: "d41d8cd98f00b204e9800998ecf8427e", sequencer: "19A" },
        },
      },
    ],
  };
}

/** Records every invocation; "failing" always fails, "flaky" fails its first `flakes` calls. */
function recordingRuntime(flakes = 0) {
  const calls: { name: string; event: { Records: Record<string, never>[] } }[] = [];
  let failures = 0;
  const runtime = {
    invoke: async (name: string, event: { Records: Record<string, never>[] }) => {
      calls.push({ name, event });
      if (name === "failing") throw new Error("handler failed");
      if (name === "flaky" && failures < flakes) {
        failures += 1;
        throw new Error("handler failed this time");
      }
    },
  } as unknown as LambdaRuntime;
  return { calls, runtime };
}

describe("the releases bucket's notifications in serverless.yml", () => {
  it("send every new .zip and .tar.gz to receiveBundle", async () => {
    const config = await loadServerlessConfig(PROJECT_ROOT);

    const notifications = lambdaNotifications(
      config.resources.get("ReleasesBucket")?.Properties,
      config.functions.keys(),
    );

    expect(
      notifications.map(({ event, prefix, suffix, functionName }) => ({
        event,
        prefix,
        suffix,
        functionName,
      })),
    ).toEqual([
      { event: "s3:ObjectCreated:*", prefix: "", suffix: ".zip", functionName: "receiveBundle" },
      { event: "s3:ObjectCreated:*", prefix: "", suffix: ".tar.gz", functionName: "receiveBundle" },
    ]);
  });

  it("refuse a notification naming a function serverless.yml does not have", () => {
    const properties = {
      NotificationConfiguration: {
        LambdaConfigurations: [
          {
            Event: "s3:ObjectCreated:*",
            Function: { "Fn::GetAtt": ["GoneLambdaFunction", "Arn"] },
          },
        ],
      },
    };

    expect(() => lambdaNotifications(properties, ["receiveBundle"])).toThrow(/GoneLambdaFunction/);
  });
});

describe("BucketNotifier", () => {
  const notifications = lambdaNotifications(
    {
      NotificationConfiguration: {
        LambdaConfigurations: [
          {
            Id: "bundles",
            Event: "s3:ObjectCreated:*",
            Filter: { S3Key: { Rules: [{ Name: "Suffix", Value: ".zip" }] } },
            Function: { "Fn::GetAtt": ["ReceiveBundleLambdaFunction", "Arn"] },
          },
          {
            Event: "s3:ObjectCreated:Copy",
            Filter: { S3Key: { Rules: [{ Name: "prefix", Value: "broken/" }] } },
            Function: { "Fn::GetAtt": ["FailingLambdaFunction", "Arn"] },
          },
          {
            Event: "s3:ObjectCreated:*",
            Filter: { S3Key: { Rules: [{ Name: "prefix", Value: "flaky/" }] } },
            Function: { "Fn::GetAtt": ["FlakyLambdaFunction", "Arn"] },
          },
        ],
      },
    },
    ["receiveBundle", "failing", "flaky"],
  );

  it("invokes the function whose event and filters match, with the event S3 would send", async () => {
    const { calls, runtime } = recordingRuntime();
    const notifier = new BucketNotifier(BUCKET, notifications, runtime, "eu-west-1");

    notifier.notify(emitted("hello/1.0.0 rc+1.zip"));
    notifier.notify(emitted("hello/1.0.0.tgz"));
    notifier.notify(emitted("hello/1.0.0.zip", { bucket: "another-bucket" }));
    notifier.notify(emitted("hello/1.0.0.zip", { eventName: "ObjectRemoved:Delete" }));
    await notifier.drain();

    expect(calls.map((call) => call.name)).toEqual(["receiveBundle"]);
    expect(calls[0]?.event.Records).toEqual([
      expect.objectContaining({
        eventSource: "aws:s3",
        awsRegion: "eu-west-1",
        eventName: "ObjectCreated:Put",
        s3: expect.objectContaining({
          configurationId: "bundles",
          bucket: expect.objectContaining({ name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }),
          object: {
            key: "hello/1.0.0+rc%2B1.zip",
            size: 42,
            eTag: "d41d8cd98f00b204e9800998ecf8427e",
            sequencer: "19A",
          },
        }),
      }),
    ]);
  });

  it("tries a failing function twice more, as Lambda does, then logs and survives it", async () => {
    const { calls, runtime } = recordingRuntime();
    const notifier = new BucketNotifier(BUCKET, notifications, runtime, "us-east-1", [1, 1]);

    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);

    notifier.notify(emitted("broken/x.bin", { eventName: "ObjectCreated:Copy" }));
    await notifier.drain();
    const logged = stderr.mock.calls.map(([line]) => JSON.parse(String(line)));
    stderr.mockRestore();

    expect(calls.map((call) => call.name)).toEqual(["failing", "failing", "failing"]);
    expect(logged.filter((line) => line.level === "error")).toEqual([
      expect.objectContaining({
        message: "bucket notification failed",
        functionName: "failing",
        key: "broken/x.bin",
        attempt: 2,
      }),
    ]);
  });

  it("delivers the event when a retry succeeds", async () => {
    const { calls, runtime } = recordingRuntime(1);
    const notifier = new BucketNotifier(BUCKET, notifications, runtime, "us-east-1", [1, 1]);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);

    notifier.notify(emitted("flaky/1.0.0.bin"));
    await notifier.drain();
    stderr.mockRestore();

    expect(calls.map((call) => call.name)).toEqual(["flaky", "flaky"]);
    expect(calls[1]?.event).toEqual(calls[0]?.event);
  });
});

describe("encodeNotificationKey", () => {
  it("gives back the key when decoded as the handler decodes S3's keys", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (key) => {
        const encoded = encodeNotificationKey(key);

        expect(encoded).not.toContain(" ");
        expect(decodeURIComponent(encoded.replace(/\+/g, " "))).toBe(key);
      }),
    );
  });
});
