import { createServer, type Server } from "node:http";
import { awsJsonListener, type Operations } from "../aws-json-server";
import type { InjectedError } from "../faults";
import { queryErrorHeader } from "./errors";
import { isQueryRequest, serveQuery } from "./query-protocol";

export const TARGET_PREFIX = "GraniteServiceVersion20100801";

/**
 * CloudWatch's endpoint: awsJson1_0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, what
 * the SDK v3 sends), with query-compatible errors, and the older query protocol on the same
 * port, which the AWS CLI speaks.
 */
export function serveCloudWatch(
  operations: Operations,
  fault?: (operation: string) => InjectedError | undefined,
): Server {
  const json = awsJsonListener(
    TARGET_PREFIX,
    "application/x-amz-json-1.0",
    inEpochSeconds(operations),
    fault,
    queryErrorHeader,
  );
  return createServer((req, res) => {
    if (isQueryRequest(req)) return serveQuery(req, res, operations, fault);
    return json(req, res);
  });
}

/** awsJson1_0 writes timestamps as epoch seconds. */
function inEpochSeconds(operations: Operations): Operations {
  return Object.fromEntries(
    Object.entries(operations).map(([name, operation]) => [
      name,
      async (input: Record<string, unknown>) => toEpochSeconds(await operation(input)),
    ]),
  );
}

function toEpochSeconds(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toEpochSeconds);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toEpochSeconds(v)]));
  }
  return value;
}
