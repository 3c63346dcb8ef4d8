import { EventEmitter } from "node:events";
import type { Server } from "node:http";
import dynalite from "dynalite";
import { listen } from "../aws-json-server";
import { DynamoDbError } from "./errors";
import type { Item } from "./items";

/** A request as DynamoDB's JSON protocol carries it and the answer it got, both as text. */
export interface WireAnswer {
  status: number;
  body: string;
}

type RequestListener = (req: EventEmitter, res: FakeResponse) => void;

interface FakeResponse {
  statusCode: number;
  contentType?: string;
  setHeader(name: string, value: unknown): void;
  end(body?: string): void;
}

// dynalite checks that a request is signed, not what the signature is.
const HEADERS = {
  "content-type": "application/x-amz-json-1.0",
  authorization:
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
  "x-amz-date": "20260101T000000Z",
};

/**
 * dynalite (LevelDB under `dir`), driven in this process. It also listens on a loopback port
 * of its own, which is how its store is closed and lets a person reach it directly, but the
 * front hands it each request through its request listener: a TCP hop per call costs about
 * four times what the rest of the front adds.
 */
export class DynaliteBackend {
  private constructor(
    private readonly server: Server,
    private readonly listener: RequestListener,
    readonly port: number,
  ) {}

  static async open(dir: string): Promise<DynaliteBackend> {
    const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const port = await listen(server, 0);
    const [listener] = server.listeners("request") as RequestListener[];
    if (!listener) throw new Error("dynalite's server has no request listener");
    return new DynaliteBackend(server, listener, port);
  }

  /** One operation, its body passed and its answer returned unchanged. */
  send(operation: string, body: string): Promise<WireAnswer> {
    return new Promise((resolve) => {
      const req = Object.assign(new EventEmitter(), {
        method: "POST",
        url: "/",
        headers: { ...HEADERS, "x-amz-target": `DynamoDB_20120810.${operation}` },
      });
      const res: FakeResponse = {
        statusCode: 200,
        setHeader: () => undefined,
        end: (text = "") => resolve({ status: res.statusCode, body: text }),
      };
      this.listener(req, res);
      req.emit("data", Buffer.from(body));
      req.emit("end");
    });
  }

  /** One operation as JSON; an error answer is thrown as a DynamoDbError. */
  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
    const answer = await this.send(operation, JSON.stringify(input));
    const parsed = answer.body ? (JSON.parse(answer.body) as Record<string, unknown>) : {};
    if (answer.status !== 200) throw new DynamoDbError(answer.status, parsed);
    return parsed as T;
  }

  async getItem(table: string, key: Item): Promise<Item | undefined> {
    const answer = await this.call<{ Item?: Item }>("GetItem", {
      TableName: table,
      Key: key,
      ConsistentRead: true,
    });
    return answer.Item;
  }

  /** Puts the image back, or deletes the item when there was none: an undo, unconditional. */
  async restore(table: string, key: Item, image: Item | undefined): Promise<void> {
    if (image) await this.call("PutItem", { TableName: table, Item: image });
    else await this.call("DeleteItem", { TableName: table, Key: key });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
  }
}
