/**
 * The dashboard's one way to Sluice's data. Every route it calls is in ROUTES, under the
 * people's prefix (`/api`, a JWT's routes in AWS, the printed token's locally). A route the API
 * does not have yet answers 404, and the section that needs it is left out.
 */
import { token } from "./auth.js";

const e = encodeURIComponent;

export const ROUTES = {
  /** All apps' runs, filtered and paged: `?app=&status=&limit=&cursor=`. */
  runs: (query) => `/api/runs?${new URLSearchParams(query)}`,
  appRuns: (app) => `/api/apps/${e(app)}/runs`,
  app: (app) => `/api/apps/${e(app)}`,
  run: (id) => `/api/runs/${e(id)}`,
  /** A page of a run's audit trail, newest first: `?limit=&cursor=`. */
  runAudit: (id, query) => `/api/runs/${e(id)}/audit?${new URLSearchParams(query)}`,
  fleet: (app) => `/api/apps/${e(app)}/fleet`,
  /** The app's DORA delivery metrics over the last 30 days. */
  metrics: (app) => `/api/apps/${e(app)}/metrics`,
  decide: (id) => `/api/runs/${e(id)}/approval`,
};

/** Raised when the API refuses the token: the page asks the person to sign in again. */
export class SignedOut extends Error {}

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token() ?? ""}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) throw new SignedOut("sign in again");
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = { message: text };
  }
  return { ok: res.ok, status: res.status, data };
}

/** Routes this API does not have: API Gateway's own 404, not a handler's. Not asked again. */
const absent = new Set();

/** The answer's data, or undefined when the route or the thing is not there (or fails). */
async function optional(route, ...args) {
  if (absent.has(route)) return undefined;
  const { ok, status, data } = await call("GET", ROUTES[route](...args));
  if (status === 404 && data?.message === "Not Found") absent.add(route);
  return ok ? data : undefined;
}

/**
 * A page of runs, newest first: all apps' (or one app's) through `runs`, else one app's through
 * `appRuns`; `{ runs, cursor? }`, or undefined when neither route can answer.
 */
export async function listRuns({ app, status, cursor } = {}) {
  const query = Object.fromEntries(
    Object.entries({ app, status, cursor, limit: "50" }).filter(([, v]) => v),
  );
  const all = await optional("runs", query);
  if (all?.runs) return { runs: all.runs, cursor: all.cursor ?? all.nextCursor };
  if (!app) return undefined;
  const mine = await optional("appRuns", app);
  if (!mine?.runs) return undefined;
  return { runs: status ? mine.runs.filter((r) => r.status === status) : mine.runs };
}

export const getRun = (id) => optional("run", id);
export const getApp = (app) => optional("app", app);
/** The most pages of a run's audit trail the page reads: thousands of entries. */
const MAX_AUDIT_PAGES = 20;

/**
 * A run's audit trail, newest first, page after page: `{ entries, partial }`, partial when
 * older entries were left unread (a page failed, or there were too many); undefined when the
 * API has none.
 */
export async function getAudit(id) {
  const entries = [];
  const seen = new Set();
  let cursor;
  for (let pages = 0; pages < MAX_AUDIT_PAGES; pages++) {
    const page = await optional("runAudit", id, { limit: "100", ...(cursor ? { cursor } : {}) });
    if (!Array.isArray(page?.entries)) {
      return entries.length ? { entries, partial: true } : undefined;
    }
    entries.push(...page.entries);
    cursor = page.nextCursor;
    // A cursor handed out twice would lead round in a circle.
    if (!cursor || seen.has(cursor)) return { entries, partial: Boolean(cursor) };
    seen.add(cursor);
  }
  return { entries, partial: true };
}
export const getFleet = (app) => optional("fleet", app);
export const getMetrics = (app) => optional("metrics", app);

/** A decision on the approval the run waits in: `{ ok, data }`, data.message saying a refusal. */
export function decide(id, decision, comment) {
  return call("POST", ROUTES.decide(id), { decision, ...(comment ? { comment } : {}) });
}
