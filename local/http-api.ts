import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { logger } from "../http/logger";
import type { LambdaRuntime } from "./lambda-runtime";
import type { HttpRoute } from "./serverless-config";

/** API Gateway's own cap on a request payload. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES =
  /^(text\/|application\/(json|xml|yaml|x-yaml|x-www-form-urlencoded|[\w.+-]+\+json))/i;

interface CompiledRoute extends HttpRoute {
  pattern: RegExp;
  params: string[];
}

/**
 * An API Gateway HTTP API stand-in: the httpApi routes of serverless.yml, each request turned
 * into a payload-format-2.0 event for its function, and the function's result into a response.
 */
export function createHttpApi(routes: readonly HttpRoute[], lambdas: LambdaRuntime): Server {
  const compiled = routes.map(compileRoute);
  return createServer(async (req, res) => {
    // Method and path until a route matches; the query is left out, as it may carry tokens.
    let route = `${req.method} ${req.url?.split("?")[0]}`;
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const method = (req.method ?? "GET").toUpperCase();
      const match = findRoute(compiled, method, url.pathname);
      if (!match) return send(res, 404, { message: "Not Found" });
      route = `${match.route.method} ${match.route.path}`;
      const body = await readBody(req);
      if (body === undefined) return send(res, 413, { message: "Request Entity Too Large" });
      const event = toEvent(req, url, method, match.route, match.pathParameters, body);
      const result = (await lambdas.invoke(match.route.functionName, event)) as
        | APIGatewayProxyStructuredResultV2
        | string
        | undefined;
      writeResult(res, result);
    } catch (error) {
      logger.error("local API request failed", { route, error });
      send(res, 500, { message: "Internal Server Error" });
    }
  });
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

function findRoute(routes: readonly CompiledRoute[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method && route.method !== "ANY" && route.method !== "*") continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const pathParameters = Object.fromEntries(
      route.params.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? "")]),
    );
    return { route, pathParameters };
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  route: HttpRoute,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  const isText = TEXT_TYPES.test(headers["content-type"] ?? "text/plain");
  const now = new Date();
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
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
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
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

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
