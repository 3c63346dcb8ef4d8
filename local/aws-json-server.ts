import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { InjectedError } from "./faults";

/** An error the AWS JSON protocols return as `{ __type, message }`; the SDK rebuilds it by name. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export type Operations = Record<string, (input: Record<string, unknown>) => Promise<unknown>>;

const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Serves an AWS JSON-protocol API (awsJson1_0 / awsJson1_1): a POST to `/` whose
 * `X-Amz-Target: <Prefix>.<Operation>` names the call. Requests are not signature-checked:
 * the stand-ins listen on loopback only.
 */
export function serveAwsJson(
  targetPrefix: string,
  contentType: string,
  operations: Operations,
  /** An error to answer a call with instead, as a test asked (see FaultInjector). */
  fault?: (operation: string) => InjectedError | undefined,
): Server {
  return createServer(awsJsonListener(targetPrefix, contentType, operations, fault));
}

/**
 * What serveAwsJson answers requests with, for a server that also speaks another protocol on
 * the same port; `errorHeaders` adds headers to an error answer (CloudWatch's query-compatible
 * `x-amzn-query-error`, say).
 */
export function awsJsonListener(
  targetPrefix: string,
  contentType: string,
  operations: Operations,
  fault?: (operation: string) => InjectedError | undefined,
  errorHeaders?: (error: AwsServiceError) => Record<string, string>,
): RequestListener {
  return async (req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": contentType, ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const target = req.headers["x-amz-target"];
      const [prefix, operation] = typeof target === "string" ? target.split(".") : [];
      const handle = operation ? operations[operation] : undefined;
      if (req.method !== "POST" || prefix !== targetPrefix || !handle || !operation) {
        throw new AwsServiceError(
          "UnknownOperationException",
          `unsupported operation ${String(target)}`,
        );
      }
      const body = await readBody(req);
      const injected = fault?.(operation);
      if (injected) {
        throw new AwsServiceError(
          injected.type,
          injected.message ?? "injected by a test",
          injected.status,
        );
      }
      const input = body.length ? (JSON.parse(body) as Record<string, unknown>) : {};
      reply(200, (await handle(input)) ?? {});
    } catch (err) {
      const error =
        err instanceof AwsServiceError
          ? err
          : new AwsServiceError("InternalFailure", (err as Error).message, 500);
      reply(
        error.statusCode,
        { __type: error.type, message: error.message },
        errorHeaders?.(error),
      );
    }
  };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      throw new AwsServiceError("ValidationException", "request body too large");
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function listen(server: Server, port: number, host = "127.0.0.1"): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
