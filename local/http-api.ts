import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { finished } from "node:stream/promises";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { logger } from "../http/logger";
import type { LambdaRuntime } from "./lambda-runtime";
import { bearerMatches, type LocalPerson } from "./people-token";
import type { HttpRoute } from "./serverless-config";

/** API Gateway's own cap on a request payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES =
  /^(text\/|application\/(json|xml|yaml|x-yaml|x-www-form-urlencoded|[\w.+-]+\+json))/i;

interface CompiledRoute extends HttpRoute {
  pattern: RegExp;
  params: string[];
}

interface Target {
  /** As sent, still percent-encoded. */
  path: string;
  query: string;
}

/** How a request fits the routes. */
type Routing =
  | { kind: "route"; route: HttpRoute; target: Target; pathParameters: Record<string, string> }
  | { kind: "wrong-method"; allow: string[] }
  | { kind: "none" }
  | { kind: "malformed" };

/**
 * An API Gateway HTTP API stand-in: the httpApi routes of serverless.yml, each request turned
 * into a payload-format-2.0 event for its function, and the function's result into a response.
 * Only a failing function makes a 5xx: a request no route takes is answered 400, 404 or 405.
 */
export function createHttpApi(
  routes: readonly HttpRoute[],
  lambdas: LambdaRuntime,
  /** Who the bearer token of the routes with a JWT authorizer stands for. */
  person?: LocalPerson,
): Server {
  const compiled = routes.map(compileRoute);
  return createServer(async (req, res) => {
    const routing = routeRequest(compiled, req.method ?? "GET", req.url ?? "");
    if (routing.kind === "malformed") return refuse(req, res, 400, "Bad Request");
    if (routing.kind === "none") return refuse(req, res, 404, "Not Found");
    if (routing.kind === "wrong-method") {
      return refuse(req, res, 405, "Method Not Allowed", { allow: routing.allow.join(", ") });
    }
    const { route, target, pathParameters } = routing;
    // As API Gateway's JWT authorizer answers a request without a valid token, before any function.
    if (route.jwtAuthorizer && !(person && bearerMatches(req.headers.authorization, person.token)))
      return refuse(req, res, 401, "Unauthorized", { "www-authenticate": "Bearer" });
    try {
      const body = await readBody(req);
      if (body === undefined) return send(res, 413, { message: "Request Entity Too Large" });
      const event = toEvent(req, target, route, pathParameters, body, person);
      const result = (await lambdas.invoke(route.functionName, event)) as
        | APIGatewayProxyStructuredResultV2
        | string
        | undefined;
      writeResult(res, result);
    } catch (error) {
      // A client that went away has nobody to answer.
      if (req.socket.destroyed) return;
      logger.error("local API request failed", {
        route: `${route.method} ${route.path}`,
        error,
      });
      if (res.headersSent) res.destroy();
      else send(res, 500, { message: "Internal Server Error" });
    }
  });
}

function routeRequest(routes: readonly CompiledRoute[], method: string, url: string): Routing {
  const target = parseTarget(url);
  if (!target || !isWellEncoded(target.path)) return { kind: "malformed" };
  const allow = new Set<string>();
  for (const route of routes) {
    const m = route.pattern.exec(target.path);
    if (!m) continue;
    if (route.method !== method && route.method !== "ANY" && route.method !== "*") {
      allow.add(route.method);
      continue;
    }
    const pathParameters = Object.fromEntries(
      route.params.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? "")]),
    );
    return { kind: "route", route, target, pathParameters };
  }
  return allow.size ? { kind: "wrong-method", allow: [...allow] } : { kind: "none" };
}

/**
 * The path and query of a request target. An origin-form target (`/path?query`) is taken as
 * it comes: `//host/path` is the path `//host/path`, not the host `host` a URL parser would
 * read. An absolute-form target (`http://host/path`) gives its path; anything else is none.
 */
function parseTarget(url: string): Target | undefined {
  if (!url.startsWith("/")) {
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined;
    const { pathname, search } = new URL(url);
    return { path: pathname, query: search.slice(1) };
  }
  const question = url.indexOf("?");
  return question < 0
    ? { path: url, query: "" }
    : { path: url.slice(0, question), query: url.slice(question + 1) };
}

/** A malformed escape (`%zz`, half a UTF-8 sequence) anywhere in the path is the client's error. */
function isWellEncoded(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function compileRoute(route: HttpRoute): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split("/")
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy?.[1]) {
        params.push(greedy[1]);
        return "(.+)";
      }
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param?.[1]) {
        params.push(param[1]);
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { ...route, pattern: new RegExp(`^${source}$`), params };
}

/**
 * The body, or undefined if it is over API Gateway's cap. Past the cap the rest is read and
 * dropped: a client still sending would otherwise see its connection break, not the 413.
 */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) chunks = undefined;
    chunks?.push(chunk as Buffer);
  }
  return chunks && Buffer.concat(chunks);
}

/** API Gateway's own answer to a request it passes to no function, once the request is read. */
async function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  try {
    await finished(req.resume());
  } catch {
    return; // the client went away
  }
  send(res, status, { message }, headers);
}

function toEvent(
  req: IncomingMessage,
  target: Target,
  route: HttpRoute,
  pathParameters: Record<string, string>,
  body: Buffer,
  person: LocalPerson | undefined,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(target.query)) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  const isText = TEXT_TYPES.test(headers["content-type"] ?? "text/plain");
  const now = new Date();
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: "2.0",
    routeKey,
    rawPath: target.path,
    rawQueryString: target.query,
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    ...(body.length ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method: req.method ?? "",
        path: target.path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      // As API Gateway's IAM authorizer tells a function who signed the request; the local API
      // checks no signature (loopback only), so this is only who the request says it is. A
      // person's route had its token checked above, and gets the claims a JWT would carry.
      ...(route.jwtAuthorizer && person
        ? { authorizer: { jwt: { claims: { ...person.claims }, scopes: null } } }
        : signerOf(headers.authorization)),
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function writeResult(
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2 | string | undefined,
) {
  // As API Gateway does for payload 2.0: a result without statusCode is a 200 JSON body.
  if (result === undefined || typeof result === "string" || result.statusCode === undefined) {
    return send(res, 200, result ?? null);
  }
  const body = result.body ?? "";
  res.writeHead(result.statusCode, {
    ...(result.headers as Record<string, string> | undefined),
    ...(result.cookies?.length ? { "set-cookie": result.cookies } : {}),
  });
  res.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Who signed, from the access key a SigV4 `Authorization` header names (`Credential=<key>/...`).
 * The CLI signs for a local API as `local-<user>`, read as that local IAM user's ARN, as API
 * Gateway tells a function the caller's userArn.
 */
function signerOf(authorization: string | undefined): {
  authorizer?: { iam: { accessKey: string; userArn?: string } };
} {
  const accessKey = /Credential=([^/,\s]+)\//.exec(authorization ?? "")?.[1];
  if (!accessKey) return {};
  const localUser = /^local-([\w+=,.@-]+)$/.exec(accessKey)?.[1];
  return {
    authorizer: {
      iam: {
        accessKey,
        ...(localUser ? { userArn: `arn:aws:iam::000000000000:user/${localUser}` } : {}),
      },
    },
  };
}
