import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsServiceError, type Operations, readBody } from "../aws-json-server";
import type { InjectedError } from "../faults";
import { faultOf, queryCode } from "./errors";

const XML_NAMESPACE = "http://monitoring.amazonaws.com/doc/2010-08-01/";

// The query protocol sends every value as text: these members are numbers, booleans or lists.
const NUMBERS = new Set([
  "Period",
  "EvaluationPeriods",
  "DatapointsToAlarm",
  "Threshold",
  "MaxRecords",
]);
const BOOLEANS = new Set(["ActionsEnabled"]);
const LISTS = new Set([
  "AlarmNames",
  "AlarmTypes",
  "OKActions",
  "AlarmActions",
  "InsufficientDataActions",
  "Dimensions",
  "Metrics",
]);

/** A request of CloudWatch's query protocol: a form-encoded POST naming its Action. */
export function isQueryRequest(req: IncomingMessage): boolean {
  return (
    req.method === "POST" &&
    req.headers["x-amz-target"] === undefined &&
    (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")
  );
}

/**
 * Answers a query-protocol call (what the AWS CLI v1 and Debian's awscli send) with the same
 * operations as the JSON protocol: `Dimensions.member.1.Name=...` becomes
 * `{ Dimensions: [{ Name }] }`, and the answer is CloudWatch's XML, errors an `<ErrorResponse>`.
 */
export async function serveQuery(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Operations,
  fault?: (operation: string) => InjectedError | undefined,
): Promise<void> {
  const requestId = randomUUID();
  const reply = (status: number, body: string) => {
    res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": requestId });
    res.end(body);
  };
  try {
    const params = new URLSearchParams(await readBody(req));
    const action = params.get("Action") ?? "";
    const handle = Object.hasOwn(operations, action) ? operations[action] : undefined;
    if (!handle) {
      throw new AwsServiceError(
        "InvalidAction",
        `The action ${action} is not valid for this web service.`,
      );
    }
    const injected = fault?.(action);
    if (injected) {
      throw new AwsServiceError(
        injected.type,
        injected.message ?? "injected by a test",
        injected.status,
      );
    }
    const result = (await handle(decodeParameters(params))) as Record<string, unknown>;
    const body = Object.keys(result ?? {}).length ? element(`${action}Result`, result) : "";
    reply(
      200,
      `<${action}Response xmlns="${XML_NAMESPACE}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    );
  } catch (err) {
    const error =
      err instanceof AwsServiceError
        ? err
        : new AwsServiceError("InternalServiceFault", (err as Error).message, 500);
    reply(
      error.statusCode,
      `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${faultOf(error)}</Type><Code>${escapeXml(queryCode(error))}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  }
}

/** The form's members as the JSON protocol's input: lists from `.member.N`, typed scalars. */
export function decodeParameters(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, raw] of params) {
    if (key === "Action" || key === "Version") continue;
    const path = key
      .split(".")
      .flatMap((part, i, parts) =>
        part === "member" && /^\d+$/.test(parts[i + 1] ?? "")
          ? []
          : [/^\d+$/.test(part) ? Number(part) - 1 : part],
      );
    const name = [...path].reverse().find((part) => typeof part === "string") ?? key;
    const value =
      raw === "" && LISTS.has(name) && typeof path.at(-1) === "string"
        ? []
        : NUMBERS.has(name)
          ? Number(raw)
          : BOOLEANS.has(name)
            ? raw === "true"
            : raw;
    let node: Record<PropertyKey, unknown> = root;
    path.forEach((part, i) => {
      if (i === path.length - 1) {
        node[part] = value;
        return;
      }
      node[part] ??= typeof path[i + 1] === "number" ? [] : {};
      node = node[part] as Record<PropertyKey, unknown>;
    });
  }
  return compactLists(root) as Record<string, unknown>;
}

/** `.member.2` without a `.member.1` would leave a hole; the JSON protocol has none. */
function compactLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(compactLists);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactLists(v)]));
  }
  return value;
}

/** One member of an answer in the query protocol's XML: lists as `<member>`s, times in ISO 8601. */
function element(name: string, value: unknown): string {
  if (value === undefined || value === null) return "";
  let inner: string;
  if (Array.isArray(value)) inner = value.map((item) => element("member", item)).join("");
  else if (value instanceof Date) inner = value.toISOString();
  else if (typeof value === "object") {
    inner = Object.entries(value)
      .map(([key, member]) => element(key, member))
      .join("");
  } else inner = escapeXml(String(value));
  return `<${name}>${inner}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}
