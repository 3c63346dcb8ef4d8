import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { z } from "zod";
import type { InjectedError } from "../faults";
import type { DynaliteBackend, WireAnswer } from "./dynalite-backend";
import { DynamoDbError, validationError } from "./errors";
import type { ExpirySweeper } from "./expiry-sweeper";
import type { ItemReads } from "./item-reads";
import type { Input, ItemWrites } from "./item-writes";
import { StreamSpecificationSchema, type TableCatalog } from "./tables";
import type { Transactions } from "./transactions";

type Handler = (raw: string, input: Input) => Promise<WireAnswer>;

const API = "DynamoDB_20120810";
const STREAMS_API = "DynamoDBStreams_20120810";
const CONTENT_TYPE = "application/x-amz-json-1.0";
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const TimeToLiveSchema = z.object({
  TableName: z.string(),
  TimeToLiveSpecification: z.object({ AttributeName: z.string().min(1), Enabled: z.boolean() }),
});

export interface FrontParts {
  backend: DynaliteBackend;
  catalog: TableCatalog;
  writes: ItemWrites;
  reads: ItemReads;
  transactions: Transactions;
  sweeper: ExpirySweeper;
  streams: Record<string, (input: Input) => Promise<unknown>>;
  /** An error to answer a call with instead, as a test asked (see local/faults.ts). */
  fault?: (operation: string) => InjectedError | undefined;
}

/**
 * The DynamoDB endpoint clients talk to: DynamoDB's JSON protocol (awsJson1_0, `X-Amz-Target:
 * DynamoDB_20120810.<Operation>`). Operations dynalite lacks (transactions, streams settings,
 * time to live) are answered here, writes go through the item locks, and everything else is
 * handed to dynalite as it came.
 */
export function createFront(parts: FrontParts): Server {
  const handlers = frontHandlers(parts);
  return createServer(async (req, res) => {
    const reply = (answer: WireAnswer) => {
      res.writeHead(answer.status, {
        "content-type": CONTENT_TYPE,
        "content-length": Buffer.byteLength(answer.body),
        "x-amzn-requestid": randomBytes(39).toString("base64url").toUpperCase().slice(0, 52),
      });
      res.end(answer.body);
    };
    try {
      if (req.method === "GET") {
        reply({ status: 200, body: "healthy: dynamodb.us-east-1.amazonaws.com " });
        return;
      }
      const raw = await readBody(req);
      const [api, operation = ""] = String(req.headers["x-amz-target"] ?? "").split(".");
      const injected = api === API ? parts.fault?.(operation) : undefined;
      if (injected) {
        throw new DynamoDbError(injected.status, {
          __type: `com.amazonaws.dynamodb.v20120810#${injected.type}`,
          message: injected.message ?? "injected by a test",
        });
      }
      const streamOperation =
        api === STREAMS_API && Object.hasOwn(parts.streams, operation)
          ? parts.streams[operation]
          : undefined;
      if (req.method === "POST" && streamOperation) {
        const input = parseInput(raw);
        if (!input)
          throw new DynamoDbError(400, {
            __type: "com.amazon.coral.service#SerializationException",
          });
        reply({ status: 200, body: JSON.stringify(await streamOperation(input)) });
        return;
      }
      if (req.method !== "POST" || api !== API) {
        reply(
          errorAnswer(
            new DynamoDbError(400, {
              __type: "com.amazon.coral.service#UnknownOperationException",
            }),
          ),
        );
        return;
      }
      const handle = Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
      const input = handle ? parseInput(raw) : undefined;
      reply(handle && input ? await handle(raw, input) : await parts.backend.send(operation, raw));
    } catch (err) {
      reply(
        errorAnswer(
          err instanceof DynamoDbError
            ? err
            : new DynamoDbError(500, {
                __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
                message: (err as Error).message,
              }),
        ),
      );
    }
  });
}

function frontHandlers(parts: FrontParts): Record<string, Handler> {
  const { backend, catalog, writes, reads, transactions, sweeper } = parts;
  const json =
    (handler: (input: Input) => Promise<unknown>): Handler =>
    async (_raw, input) => ({
      status: 200,
      body: JSON.stringify(await handler(input)),
    });
  const describe = async (table: string) => {
    const { Table } = await backend.call<{ Table: Input }>("DescribeTable", { TableName: table });
    return catalog.describe(table, Table);
  };
  return {
    PutItem: (raw, input) => writes.putItem(raw, input),
    UpdateItem: (raw, input) => writes.updateItem(raw, input),
    DeleteItem: (raw, input) => writes.deleteItem(raw, input),
    BatchWriteItem: (raw, input) => writes.batchWriteItem(raw, input),
    GetItem: (raw, input) => reads.getItem(raw, input),
    BatchGetItem: (raw, input) => reads.batchGetItem(raw, input),
    Query: (raw) => reads.query(raw),
    Scan: (raw) => reads.scan(raw),
    TransactWriteItems: json((input) => transactions.transactWriteItems(input)),
    TransactGetItems: json((input) => transactions.transactGetItems(input)),
    CreateTable: async (raw, input) => {
      const spec = input.StreamSpecification
        ? parseWith(StreamSpecificationSchema, input.StreamSpecification)
        : undefined;
      if (spec?.StreamEnabled && !spec.StreamViewType) {
        throw validationError("StreamViewType is required when StreamEnabled is true");
      }
      const answer = await backend.send("CreateTable", raw);
      if (answer.status !== 200) return answer;
      const table = String(input.TableName);
      catalog.created(table, spec);
      const { TableDescription } = JSON.parse(answer.body) as { TableDescription: Input };
      return ok({ TableDescription: catalog.describe(table, TableDescription) });
    },
    UpdateTable: async (_raw, input) => {
      const { StreamSpecification, ...rest } = input;
      const table = String(input.TableName);
      await catalog.requireTable(table);
      const others = Object.keys(rest).filter((k) => k !== "TableName" && rest[k] !== undefined);
      if (others.length > 0 || !StreamSpecification) {
        const answer = await backend.send("UpdateTable", JSON.stringify(rest));
        if (answer.status !== 200) return answer;
      }
      if (StreamSpecification) {
        catalog.setStream(table, parseWith(StreamSpecificationSchema, StreamSpecification));
      }
      return ok({ TableDescription: await describe(table) });
    },
    DescribeTable: async (raw, input) => {
      const answer = await backend.send("DescribeTable", raw);
      if (answer.status !== 200) return answer;
      const { Table } = JSON.parse(answer.body) as { Table: Input };
      return ok({ Table: catalog.describe(String(input.TableName), Table) });
    },
    DeleteTable: async (raw, input) => {
      const answer = await backend.send("DeleteTable", raw);
      if (answer.status === 200) {
        catalog.deleted(String(input.TableName));
        sweeper.forgetTable(String(input.TableName));
      }
      return answer;
    },
    UpdateTimeToLive: json(async (input) => {
      const { TableName, TimeToLiveSpecification: spec } = parseWith(TimeToLiveSchema, input);
      await catalog.requireTable(TableName);
      catalog.setTtl(TableName, spec.AttributeName, spec.Enabled);
      if (spec.Enabled) sweeper.indexTable(TableName, spec.AttributeName);
      else sweeper.forgetTable(TableName);
      return { TimeToLiveSpecification: spec };
    }),
    DescribeTimeToLive: json(async (input) => {
      const table = String(input.TableName);
      await catalog.requireTable(table);
      const attribute = catalog.ttlAttribute(table);
      return {
        TimeToLiveDescription: attribute
          ? { TimeToLiveStatus: "ENABLED", AttributeName: attribute }
          : { TimeToLiveStatus: "DISABLED" },
      };
    }),
  };
}

function ok(body: unknown): WireAnswer {
  return { status: 200, body: JSON.stringify(body) };
}

function errorAnswer(err: DynamoDbError): WireAnswer {
  return { status: err.statusCode, body: JSON.stringify(err.body) };
}

/** The request as JSON, or undefined so that dynalite answers it as DynamoDB would. */
function parseInput(raw: string): Input | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Input)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw validationError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; "),
    );
  }
  return parsed.data;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      throw new DynamoDbError(413, { __type: "com.amazon.coral.service#SerializationException" });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
