import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../http/query";
import { CliError } from "./errors";
import type { RequestSigner } from "./request-signer";

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and printed
export type Json = any;

/** An error answer of the API: its status says whether asking again could help (5xx). */
export class ApiRefusal extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiRefusal";
  }
}

export interface RunFilter {
  app?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}

const DEFAULT_RUN_LIMIT = 20;

export interface ApiAnswer {
  status: number;
  body: Json;
}

/**
 * The Sluice HTTP API; an error answer becomes a CliError carrying the API's own message. Every
 * request is signed (SigV4 for IAM) or carries a bearer token (a JWT).
 */
export class ApiClient {
  constructor(
    /** The API's address, as the CLI was pointed at it. */
    readonly base: string,
    private readonly sign: RequestSigner,
    /** `/api` for a person's bearer token: the people's routes mirror the IAM routes there. */
    private readonly prefix = "",
    /** Requests are signed as SLUICE_LOCAL_USER: the local stack sees that user as the caller. */
    readonly localUser = false,
  ) {}

  async get(path: string): Promise<Json> {
    return (await this.send("GET", path)).body;
  }

  /** The answer's body, or undefined when the API answers 404. */
  async find(path: string): Promise<Json | undefined> {
    const answer = await this.send("GET", path, undefined, [404]);
    return answer.status === 404 ? undefined : answer.body;
  }

  // The read routes of the CLI's read commands, all in one place. Where a route of the paged
  // API (GET /runs, the audit trail) is not there, the API answers 404 and the routes the API
  // has always had serve instead.

  /** GET /apps: `{ apps }`. */
  async apps(): Promise<Json> {
    return this.get("/apps");
  }

  /**
   * The runs, newest first, filtered; pages followed through `next` until `limit` are read.
   * `next` is where the page after them starts, only when there is one.
   */
  async runs(filter: RunFilter): Promise<{ runs: Json[]; next?: string }> {
    const limit = filter.limit ?? DEFAULT_RUN_LIMIT;
    const read = await readPages(
      (size, cursor) => this.runsPage(filter, size, cursor),
      "runs",
      limit,
      filter.cursor,
    );
    if (!read) return this.runsOfApps(filter, limit);
    return { runs: read.items, ...(read.next ? { next: read.next } : {}) };
  }

  /** One page of GET /runs; undefined where the API has no such route. */
  private async runsPage(filter: RunFilter, limit: number, cursor?: string): Promise<Json> {
    const query = new URLSearchParams({
      ...(filter.app ? { app: filter.app } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    return this.find(`/runs?${query}`);
  }

  /** Today's GET /apps/{app}/runs, of one app or of every app, merged and filtered here. */
  private async runsOfApps(filter: RunFilter, limit: number): Promise<{ runs: Json[] }> {
    const names: string[] = filter.app
      ? [filter.app]
      : (await this.apps()).apps.map((app: { name: string }) => app.name);
    const lists = await Promise.all(
      names.map((name) => this.get(`/apps/${encodeURIComponent(name)}/runs`)),
    );
    const runs = lists
      .flatMap((list) => list.runs as Json[])
      .filter((run) => !filter.status || run.status === filter.status)
      .sort((a, b) => `${b.createdAt}${b.id}`.localeCompare(`${a.createdAt}${a.id}`));
    return { runs: runs.slice(0, limit) };
  }

  /** GET /runs/{id}: the run, its stages and every step attempt. */
  async run(id: string): Promise<Json> {
    return this.get(`/runs/${encodeURIComponent(id)}`);
  }

  /**
   * A run's audit trail (GET /runs/{id}/audit), newest first, every page of it, when the API
   * keeps one; else undefined, and the caller reads the run's own record of what happened.
   */
  async runAudit(id: string): Promise<{ entries: Json[] } | undefined> {
    const entries: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.auditPage(`/runs/${encodeURIComponent(id)}`, MAX_PAGE_LIMIT, cursor);
      // No trail at all is the API without one; a later page gone keeps what was read.
      if (!page) return entries.length ? { entries } : undefined;
      entries.push(...(page.entries ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    return { entries };
  }

  /**
   * An app's audit trail (GET /apps/{app}/audit), newest first: `limit` entries from `cursor`,
   * with `next` where the entries after them start, only when there are some; undefined when
   * the API keeps no trail.
   */
  async appAudit(
    app: string,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<{ entries: Json[]; next?: string } | undefined> {
    const read = await readPages(
      (size, cursor) => this.auditPage(`/apps/${encodeURIComponent(app)}`, size, cursor),
      "entries",
      page.limit ?? DEFAULT_PAGE_LIMIT,
      page.cursor,
    );
    return read && { entries: read.items, ...(read.next ? { next: read.next } : {}) };
  }

  /** One page of the audit trail of `owner` (a run's or an app's path); undefined on 404. */
  private async auditPage(owner: string, size: number, cursor?: string): Promise<Json> {
    const query = new URLSearchParams({ limit: String(size), ...(cursor ? { cursor } : {}) });
    return this.find(`${owner}/audit?${query}`);
  }

  /** GET /apps/{app}/metrics?from=&to=: the app's DORA metrics over the period. */
  async metrics(app: string, period: { from?: string; to?: string }): Promise<Json> {
    const query = new URLSearchParams(
      Object.entries(period).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    // No period given: no `?` either, or error messages would show the path with one.
    return this.get(`/apps/${encodeURIComponent(app)}/metrics${query.size ? `?${query}` : ""}`);
  }

  async post(path: string, body: unknown): Promise<Json> {
    return (await this.send("POST", path, { type: "application/json", text: JSON.stringify(body) }))
      .body;
  }

  async put(path: string, text: string, type: string): Promise<ApiAnswer> {
    return this.send("PUT", path, { type, text });
  }

  private async send(
    method: string,
    path: string,
    body?: { type: string; text: string },
    allowed: readonly number[] = [],
  ): Promise<ApiAnswer> {
    const url = `${this.base}${this.prefix}${path}`;
    const request = await this.sign(
      new Request(url, {
        method,
        ...(body ? { headers: { "content-type": body.type }, body: body.text } : {}),
      }),
    );
    let res: Response;
    try {
      res = await fetch(request);
    } catch (err) {
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the Sluice API at ${this.base}: ${reason}`, { cause: err });
    }
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the message below.
    }
    if (!res.ok && !allowed.includes(res.status)) {
      const message = typeof parsed === "object" && parsed?.message ? parsed.message : text;
      throw new ApiRefusal(`${method} ${path}: ${res.status} ${message}`, res.status);
    }
    return { status: res.status, body: parsed };
  }
}

/**
 * A paged list's items from `from` on, pages followed through their cursors until `limit` are
 * read; undefined where a page has no such list (the API has no such route). `next` is where
 * the items after them start, only when there are some.
 */
async function readPages(
  read: (size: number, cursor?: string) => Promise<Json | undefined>,
  list: "runs" | "entries",
  limit: number,
  from?: string,
): Promise<{ items: Json[]; next?: string } | undefined> {
  const items: Json[] = [];
  let cursor = from;
  for (;;) {
    const page = await read(Math.min(limit - items.length, MAX_PAGE_LIMIT), cursor);
    if (!Array.isArray(page?.[list])) return undefined;
    items.push(...page[list]);
    cursor = cursorOf(page);
    if (!cursor || items.length >= limit) break;
  }
  // The API hands out a cursor only when something follows, or where a sparse filter stopped
  // reading: either way there may be more.
  return { items: items.slice(0, limit), ...(cursor ? { next: cursor } : {}) };
}

/** Where the page after `page` starts, by whichever name the API gives it. */
function cursorOf(page: Json): string | undefined {
  return page?.next ?? page?.nextCursor ?? page?.cursor ?? undefined;
}
