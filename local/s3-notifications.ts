import type { S3EventRecord } from "aws-lambda";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import type { LambdaRuntime } from "./lambda-runtime";

/** The CloudFormation NotificationConfiguration of a bucket, its Lambda part. */
const BucketPropertiesSchema = z.object({
  NotificationConfiguration: z.optional(
    z.object({
      LambdaConfigurations: z._default(
        z.array(
          z.object({
            Id: z.optional(z.string()),
            Event: z.string().check(z.startsWith("s3:")),
            Filter: z.optional(
              z.object({
                S3Key: z.object({
                  Rules: z.array(
                    z.object({
                      Name: z.string().check(z.regex(/^(prefix|suffix)$/i)),
                      Value: z.string(),
                    }),
                  ),
                }),
              }),
            ),
            Function: z.object({ "Fn::GetAtt": z.tuple([z.string(), z.literal("Arn")]) }),
          }),
        ),
        [],
      ),
    }),
  ),
});

export interface LambdaNotification {
  id: string;
  /** As S3 names it: `s3:ObjectCreated:*`, `s3:ObjectCreated:Put`... */
  event: string;
  prefix: string;
  suffix: string;
  functionName: string;
}

/** The logical id osls gives a function's resource: `receiveBundle` → ReceiveBundleLambdaFunction. */
function lambdaLogicalId(functionName: string): string {
  const name = functionName.replaceAll("-", "Dash").replaceAll("_", "Underscore");
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
}

/**
 * The Lambda notifications of a bucket, from its resource properties in serverless.yml, each
 * `Fn::GetAtt: [<Function>LambdaFunction, Arn]` resolved to the function of that name.
 */
export function lambdaNotifications(
  bucketProperties: unknown,
  functionNames: Iterable<string>,
): LambdaNotification[] {
  const byLogicalId = new Map([...functionNames].map((name) => [lambdaLogicalId(name), name]));
  const configurations =
    BucketPropertiesSchema.parse(bucketProperties ?? {}).NotificationConfiguration
      ?.LambdaConfigurations ?? [];
  return configurations.map((configuration, index) => {
    const [logicalId] = configuration.Function["Fn::GetAtt"];
    const functionName = byLogicalId.get(logicalId);
    if (!functionName) {
      throw new Error(
        `bucket notification names ${logicalId}, which no function of serverless.yml is`,
      );
    }
    const rule = (name: string) =>
      configuration.Filter?.S3Key.Rules.find((r) => r.Name.toLowerCase() === name)?.Value ?? "";
    return {
      id: configuration.Id ?? `notification-${index + 1}`,
      event: configuration.Event,
      prefix: rule("prefix"),
      suffix: rule("suffix"),
      functionName,
    };
  });
}

export function matches(notification: LambdaNotification, eventName: string, key: string) {
  const event = `s3:${eventName}`;
  const eventMatches = notification.event.endsWith(":*")
    ? event.startsWith(notification.event.slice(0, -1))
    : event === notification.event;
  return eventMatches && key.startsWith(notification.prefix) && key.endsWith(notification.suffix);
}

/** As S3 writes a key into a notification: URL-encoded, "+" for a space, "/" left as is. */
export function encodeNotificationKey(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replaceAll("%20", "+"))
    .join("/");
}

/** What s3rver emits; its keys are not encoded, and a copy's record has no ETag. */
const S3rverEventSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      eventTime: z.string(),
      userIdentity: z.object({ principalId: z.string() }),
      requestParameters: z.object({ sourceIPAddress: z.string() }),
      responseElements: z.object({ "x-amz-request-id": z.string(), "x-amz-id-2": z.string() }),
      s3: z.object({
        bucket: z.object({
          name: z.string(),
          ownerIdentity: z.object({ principalId: z.string() }),
        }),
        object: z.object({
          key: z.string(),
          size: z.optional(z.number()),
          eTag: z.optional(z.string()),
          versionId: z.optional(z.string()),
          sequencer: z.string(),
        }),
      }),
    }),
  ),
});

type NotificationRecord = Omit<S3EventRecord, "s3"> & {
  s3: Omit<S3EventRecord["s3"], "object"> & {
    object: Omit<S3EventRecord["s3"]["object"], "eTag"> & { eTag?: string };
  };
};

/**
 * Lambda tries an asynchronous invocation twice more when it fails, a minute and then two
 * minutes later; locally the same two retries come after a second and two.
 */
export const LOCAL_RETRY_DELAYS_MS: readonly number[] = [1000, 2000];

/**
 * S3 → Lambda for the local stack: each event s3rver emits for the bucket is matched against
 * the bucket's notifications and handed to the named function as S3 would, asynchronously. A
 * failing function is tried again, as Lambda does, and then logged; the upload has succeeded
 * either way.
 */
export class BucketNotifier {
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly bucket: string,
    private readonly notifications: readonly LambdaNotification[],
    private readonly lambdas: LambdaRuntime,
    private readonly region: string,
    private readonly retryDelaysMs: readonly number[] = LOCAL_RETRY_DELAYS_MS,
  ) {}

  /** Takes an event as s3rver emits it. */
  notify(emitted: unknown): void {
    const parsed = S3rverEventSchema.safeParse(emitted);
    if (!parsed.success) {
      logger.error("s3rver emitted an event of an unknown shape", { error: parsed.error });
      return;
    }
    for (const record of parsed.data.Records) {
      if (record.s3.bucket.name !== this.bucket) continue;
      for (const notification of this.notifications) {
        if (!matches(notification, record.eventName, record.s3.object.key)) continue;
        this.invoke(notification.functionName, {
          Records: [this.toRecord(record, notification.id)],
        });
      }
    }
  }

  /** Resolves once every notification sent so far has been handled. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  private invoke(functionName: string, event: { Records: NotificationRecord[] }): void {
    const delivery = this.deliver(functionName, event).finally(() =>
      this.#inFlight.delete(delivery),
    );
    this.#inFlight.add(delivery);
  }

  private async deliver(functionName: string, event: { Records: NotificationRecord[] }) {
    const key = event.Records[0]?.s3.object.key;
    // After the upload's answer, as S3 does: the function never holds up the uploader.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.lambdas.invoke(functionName, event);
        logger.info("bucket notification delivered", { functionName, key, attempt });
        return;
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          logger.error("bucket notification failed", { functionName, key, attempt, error });
          return;
        }
        logger.warn("bucket notification failed; trying again", { functionName, key, delay });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private toRecord(
    record: z.infer<typeof S3rverEventSchema>["Records"][number],
    configurationId: string,
  ): NotificationRecord {
    const { bucket, object } = record.s3;
    return {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: this.region,
      eventTime: record.eventTime,
      eventName: record.eventName,
      userIdentity: record.userIdentity,
      requestParameters: record.requestParameters,
      responseElements: record.responseElements,
      s3: {
        s3SchemaVersion: "1.0",
        configurationId,
        bucket: { ...bucket, arn: `arn:aws:s3:::${bucket.name}` },
        object: {
          key: encodeNotificationKey(object.key),
          size: object.size ?? 0,
          ...(object.eTag ? { eTag: object.eTag } : {}),
          ...(object.versionId ? { versionId: object.versionId } : {}),
          sequencer: object.sequencer,
        },
      },
    };
  }
}
