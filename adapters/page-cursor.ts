import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { BadRequestError } from "../domain/errors";

/** One page of a list, newest first; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The key a query goes on from, handed to clients as base64url JSON. A cursor coming back is
 * checked to be a key of the same list (the same attributes, the same partition), so a forged
 * or another list's cursor is refused rather than read from an arbitrary place of the table.
 */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(
  cursor: string,
  attributes: readonly string[],
  partition: Record<string, string>,
): Record<string, string> {
  const refused = () => new BadRequestError("cursor is not one this list handed out");
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw refused();
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (err) {
    throw new BadRequestError("cursor is not one this list handed out", { cause: err });
  }
  if (typeof key !== "object" || key === null || Array.isArray(key)) throw refused();
  const entries = Object.entries(key);
  if (entries.length !== attributes.length) throw refused();
  for (const [name, value] of entries) {
    if (!attributes.includes(name) || typeof value !== "string" || value.length > 1024) {
      throw refused();
    }
  }
  const checked = key as Record<string, string>;
  for (const [name, value] of Object.entries(partition)) {
    if (checked[name] !== value) throw refused();
  }
  return checked;
}

/** The index of the table's lists of everything: every run (`RUNS`), every app (`APPS`). */
export const BY_LIST_INDEX = "byList";
export const BY_LIST_KEY = ["pk", "sk", "gsi2pk", "gsi2sk"] as const;
/** The byApp index: an app's runs (`APP#<app>#RUNS`), its audit trail (`APP#<app>#AUDIT`). */
export const BY_APP_KEY = ["pk", "sk", "gsi1pk", "gsi1sk"] as const;

/** Queries in a row a filtered list reads at most for one page before it answers a short one. */
const MAX_QUERIES_PER_PAGE = 20;

/**
 * One page of a query, newest first (or in key order, for a list by name). With a filter, the
 * query goes on until the page is full, so pages are short only at the end (or after
 * MAX_QUERIES_PER_PAGE reads of a sparse filter, whose cursor then says only where reading
 * stopped). An item past the page is read too: a full page hands out a cursor only when
 * something follows it, never one that leads to an empty page.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  query: Omit<QueryCommandInput, "Limit" | "ExclusiveStartKey" | "ScanIndexForward">,
  attributes: readonly string[],
  partition: Record<string, string>,
  page: PageRequest,
  oldestFirst = false,
): Promise<Page<Record<string, unknown>>> {
  const wanted = page.limit + 1;
  const items: Record<string, unknown>[] = [];
  let start = page.cursor ? decodeCursor(page.cursor, attributes, partition) : undefined;
  for (let i = 0; i < MAX_QUERIES_PER_PAGE && items.length < wanted; i++) {
    const { Items = [], LastEvaluatedKey } = await doc.send(
      new QueryCommand({
        ...query,
        ScanIndexForward: oldestFirst,
        // Not what is left to read: under a filter that would read one item a query.
        Limit: wanted,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...Items);
    start = LastEvaluatedKey as Record<string, string> | undefined;
    if (!start) break;
  }
  if (items.length > page.limit) {
    const last = items[page.limit - 1] ?? {};
    const key = Object.fromEntries(attributes.map((name) => [name, last[name]]));
    return { items: items.slice(0, page.limit), nextCursor: encodeCursor(key) };
  }
  return { items, ...(start ? { nextCursor: encodeCursor(start) } : {}) };
}
