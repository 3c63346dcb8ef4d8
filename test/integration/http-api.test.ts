import { request } from "node:http";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpRoute, loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";
import { api, startTestStack } from "../support/local-stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack();
  expect((await api(stack, "PUT", "/apps/hello", "executionMode: queued")).status).toBe(201);
});
afterAll(async () => {
  await stack.cleanup();
});

interface RawRequest {
  method: string;
  /** Sent as is, unlike fetch, which would normalise it. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable | undefined;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send({ method, path, headers = {}, body }: RawRequest): Promise<RawResponse> {
  const { port } = new URL(stack.endpoints.api);
  // Node frames a GET's or DELETE's body only when told its length; unframed, it would be read
  // as the next request.
  const length = Buffer.isBuffer(body) ? { "content-length": String(body.length) } : {};
  return new Promise((resolve, reject) => {
    // A connection each: a refused request's unread body must not spill into the next one.
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { ...headers, ...length }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

describe("the local HTTP API, to requests no route takes", () => {
  it("answers 400 to a malformed percent-escape in the path", async () => {
    const broken = await send({ method: "GET", path: "/runs/%zz" });
    const halfCharacter = await send({ method: "GET", path: "/apps/%E0%A4%A" });

    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toEqual({ message: "Bad Request" });
    expect(halfCharacter.status).toBe(400);
  });

  it("answers 405 with the route's methods in Allow to a known route called with another", async () => {
    const res = await send({ method: "DELETE", path: "/apps/hello" });

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("PUT, GET");
    expect(JSON.parse(res.body)).toEqual({ message: "Method Not Allowed" });
  });

  it("routes //host/path as that path, not as /path on another host", async () => {
    const doubled = await send({ method: "GET", path: "//elsewhere/apps/hello" });
    const plain = await send({ method: "GET", path: "/apps/hello" });

    expect(doubled.status).toBe(404);
    expect(JSON.parse(doubled.body)).toEqual({ message: "Not Found" });
    expect(plain.status).toBe(200);
  });

  it("answers API Gateway's 404 to a path no route has", async () => {
    const res = await send({ method: "GET", path: "/nowhere" });

    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: "Not Found" });
  });

  it("answers 413 to a payload over 10 MB, whether its length is declared or not", async () => {
    const tooLarge = Buffer.alloc(10 * 1024 * 1024 + 1, "a");

    const declared = await send({ method: "PUT", path: "/apps/big", body: tooLarge });
    const chunked = await send({
      method: "PUT",
      path: "/apps/big",
      // Sixteen 1 MB chunks with no Content-Length: the cap is found while reading.
      body: Readable.from(Array.from({ length: 16 }, () => tooLarge.subarray(0, 1024 * 1024))),
    });

    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ message: "Request Entity Too Large" });
    expect(chunked.status).toBe(413);
    expect((await api(stack, "GET", "/apps/big")).status).toBe(404);
  });
});

const hex = (bytes: Uint8Array) =>
  [...bytes].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");

/** A path segment: route words, escapes broken and whole, anything a client might send. */
const segment = fc.oneof(
  fc.constantFrom(
    "apps",
    "runs",
    "bundles",
    "webhooks",
    "github",
    "hello",
    "",
    ".",
    "..",
    "%",
    "%2",
    "%zz",
    "%2F",
    "%00",
    "%E0%A4%A",
    "%C0%AF",
    "%FF",
    "%F0%9F%98%80",
    "{app}",
    "#",
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.uint8Array({ maxLength: 6 }).map(hex),
  fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
);

const anyMethod = fc.constantFrom(
  "GET",
  "PUT",
  "POST",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
);
const query = fc.option(fc.stringMatching(/^[\x21-\x7e]{0,40}$/), { nil: undefined });
const withQuery = ([target, q]: [string, string | undefined]) =>
  q === undefined ? target : `${target}?${q}`;

/**
 * A method and target: mostly a route of serverless.yml (its own method, most of the time) with
 * its parameters filled in by anything, otherwise any method on any path at all.
 */
const methodAndTarget = (routes: readonly HttpRoute[]) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .record({
          route: fc.constantFrom(...routes),
          otherMethod: fc.oneof(
            { weight: 4, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: anyMethod },
          ),
          values: fc.array(segment, { minLength: 3, maxLength: 3 }),
          query,
        })
        .map(({ route, otherMethod, values, query: q }) => ({
          method: otherMethod ?? route.method,
          path: withQuery([route.path.replace(/\{\w+\+?\}/g, () => values.shift() ?? ""), q]),
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          method: anyMethod,
          start: fc.constantFrom("/", "//", "//elsewhere/", "http://elsewhere/", "*", "/apps/"),
          segments: fc.array(segment, { maxLength: 5 }),
          query,
        })
        .map(({ method, start, segments, query: q }) => ({
          method,
          path: withQuery([`${start}${segments.join("/")}`, q]),
        })),
    },
  );

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,64}$/).map((v) => v.trim());
const headers = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-16",
      "application/yaml",
      "text/plain",
      "application/octet-stream",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "",
    ),
    "content-encoding": fc.constantFrom("gzip", "br", "identity"),
    "x-github-event": fc.constantFrom("push", "ping", "issues", ""),
    "x-hub-signature-256": headerValue,
    "x-gitlab-token": headerValue,
    "x-gitlab-event": fc.constantFrom("Push Hook", "Tag Push Hook", "Note Hook"),
    "x-event-key": fc.constantFrom("repo:push", "pullrequest:created"),
    authorization: headerValue,
    "x-probe": fc.oneof(
      headerValue,
      fc.nat({ max: 20_000 }).map((n) => "h".repeat(n)),
    ),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((text) => Buffer.from(text)),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc
    .record({
      revision: fc.record(
        {
          type: fc.constantFrom("git", "bundle", "svn", ""),
          ref: fc.string(),
          commit: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{40}$/)),
          key: fc.string(),
        },
        { requiredKeys: [] },
      ),
      executionMode: fc.constantFrom("queued", "parallel", "superseded", "other"),
    })
    .map((value) => Buffer.from(JSON.stringify(value))),
  fc
    .nat({ max: 3 * 1024 * 1024 })
    .chain((size) => fc.integer({ min: 0, max: 255 }).map((byte) => Buffer.alloc(size, byte))),
);

/** What the router itself answers, as opposed to a function. */
const RUNS = 400;

const REFUSALS = new Set(
  ["Bad Request", "Not Found", "Method Not Allowed", "Request Entity Too Large"].map((message) =>
    JSON.stringify({ message }),
  ),
);

describe("the local HTTP API, fuzzed", () => {
  it("never answers 5xx to malformed paths, escapes, methods, headers, bodies or queries", async () => {
    const { routes } = await loadServerlessConfig(PROJECT_ROOT);
    const statuses = new Set<number>();
    let reachedFunctions = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(methodAndTarget(routes), headers, body)
          .map(([target, h, b]) => ({ ...target, headers: h, body: b })),
        async (raw) => {
          const res = await send(raw);
          statuses.add(res.status);
          if (res.body && !REFUSALS.has(res.body)) reachedFunctions += 1;
          expect(res.status, `${raw.method} ${raw.path} → ${res.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
    // The requests reached the functions behind the routes, not only the router's refusals.
    expect([...statuses]).toEqual(expect.arrayContaining([400, 404, 405]));
    expect(reachedFunctions).toBeGreaterThan(RUNS / 5);
  }, 60_000);
});
