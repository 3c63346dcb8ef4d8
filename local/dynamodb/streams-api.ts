import { createHash } from "node:crypto";
import { z } from "zod";
import { serviceError, validationError } from "./errors";
import { toEventRecord } from "./stream-delivery";
import type { StreamLog } from "./stream-log";
import type { TableCatalog } from "./tables";

type Input = Record<string, unknown>;

const IteratorSchema = z.object({
  StreamArn: z.string(),
  ShardId: z.string(),
  ShardIteratorType: z.enum([
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
  ]),
  SequenceNumber: z.string().regex(/^\d+$/).optional(),
});
const GetRecordsSchema = z.object({
  ShardIterator: z.string(),
  Limit: z.number().int().min(1).max(1000).default(1000),
});
const PositionSchema = z.object({ arn: z.string(), after: z.string() });

/**
 * The DynamoDB Streams API (`X-Amz-Target: DynamoDBStreams_20120810.<Operation>`): ListStreams,
 * DescribeStream, GetShardIterator and GetRecords, over the same log the event source
 * delivery reads. Each stream has one shard that never closes; an iterator holds the position
 * it reads after and does not expire.
 */
export function streamsApi(
  catalog: TableCatalog,
  log: StreamLog,
  region: string,
): Record<string, (input: Input) => Promise<unknown>> {
  const find = (arn: unknown) => {
    const stream = catalog.streams().find((s) => s.arn === arn);
    if (!stream) {
      throw serviceError(
        "ResourceNotFoundException",
        `Requested resource not found: Stream: ${String(arn)} not found`,
      );
    }
    return stream;
  };
  const shardOf = (arn: string) =>
    `shardId-00000000000000000001-${createHash("sha256").update(arn).digest("hex").slice(0, 8)}`;
  const iterator = (arn: string, after: string) =>
    Buffer.from(JSON.stringify({ arn, after })).toString("base64url");
  return {
    ListStreams: async (input) => ({
      Streams: catalog
        .streams()
        .filter((s) => input.TableName === undefined || s.table === input.TableName)
        .map((s) => ({ StreamArn: s.arn, TableName: s.table, StreamLabel: s.label })),
    }),
    DescribeStream: async (input) => {
      const stream = find(input.StreamArn);
      const schema = await catalog.requireTable(stream.table);
      return {
        StreamDescription: {
          StreamArn: stream.arn,
          StreamLabel: stream.label,
          StreamStatus: stream.enabled ? "ENABLED" : "DISABLED",
          StreamViewType: stream.viewType,
          CreationRequestDateTime: Date.parse(`${stream.label}Z`) / 1000,
          TableName: stream.table,
          KeySchema: schema.names.map((name, i) => ({
            AttributeName: name,
            KeyType: i === 0 ? "HASH" : "RANGE",
          })),
          Shards: [
            {
              ShardId: shardOf(stream.arn),
              SequenceNumberRange: { StartingSequenceNumber: "000000000000000000001" },
            },
          ],
        },
      };
    },
    GetShardIterator: async (input) => {
      const request = parse(IteratorSchema, input);
      const stream = find(request.StreamArn);
      if (request.ShardId !== shardOf(stream.arn)) {
        throw serviceError(
          "ResourceNotFoundException",
          `Requested resource not found: Shard: ${request.ShardId} not found`,
        );
      }
      const sequence = request.SequenceNumber;
      const needsSequence = request.ShardIteratorType.endsWith("SEQUENCE_NUMBER");
      if (needsSequence !== (sequence !== undefined)) {
        throw validationError(
          "SequenceNumber must be given with AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER, and only then",
        );
      }
      const after =
        request.ShardIteratorType === "TRIM_HORIZON"
          ? ""
          : request.ShardIteratorType === "LATEST"
            ? log.lastSequence
            : request.ShardIteratorType === "AFTER_SEQUENCE_NUMBER"
              ? (sequence as string).padStart(21, "0")
              : (BigInt(sequence as string) - 1n).toString().padStart(21, "0");
      return { ShardIterator: iterator(stream.arn, after) };
    },
    GetRecords: async (input) => {
      const request = parse(GetRecordsSchema, input);
      let position: z.infer<typeof PositionSchema>;
      try {
        position = PositionSchema.parse(
          JSON.parse(Buffer.from(request.ShardIterator, "base64url").toString("utf8")),
        );
      } catch {
        throw validationError("Invalid ShardIterator");
      }
      find(position.arn);
      const records = log.readStreamAfter(position.arn, position.after, request.Limit);
      const last = records.at(-1)?.seq ?? position.after;
      return {
        Records: records.map((record) => {
          const { eventSourceARN: _, ...event } = toEventRecord(record, region);
          return event;
        }),
        NextShardIterator: iterator(position.arn, last),
      };
    },
  };
}

function parse<T>(schema: z.ZodType<T>, input: Input): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw validationError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  }
  return parsed.data;
}
