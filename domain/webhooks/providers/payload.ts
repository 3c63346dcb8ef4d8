import type * as z from "../../zod";
import type { Change } from "../change";
import { WebhookPayloadError } from "../parsed";
import type { IncomingWebhook } from "../verify";

export function readHeader(webhook: IncomingWebhook, name: string): string | undefined {
  const value = webhook.headers[name]?.trim();
  return value === "" ? undefined : value;
}

export function requireHeader(webhook: IncomingWebhook, name: string, host: string): string {
  const value = readHeader(webhook, name);
  if (value === undefined) throw new WebhookPayloadError(`missing ${name} header (${host})`);
  return value;
}

/** The first of `names` that is present, so newer and older host versions both work. */
export function requireOneOfHeaders(
  webhook: IncomingWebhook,
  names: readonly string[],
  host: string,
): string {
  for (const name of names) {
    const value = readHeader(webhook, name);
    if (value !== undefined) return value;
  }
  throw new WebhookPayloadError(`missing delivery id header (${host} sends ${names.join(" or ")})`);
}

export function readJsonBody<T extends z.ZodMiniType>(
  webhook: IncomingWebhook,
  schema: T,
  what: string,
): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(webhook.rawBody);
  } catch (error) {
    throw new WebhookPayloadError(`${what} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`,
    );
    throw new WebhookPayloadError(`${what} is invalid: ${problems.join("; ")}`, {
      cause: result.error,
    });
  }
  return result.data;
}

export type RefParts = Pick<Change, "ref" | "refType" | "refName">;

export function splitRef(ref: string): RefParts | undefined {
  if (ref.startsWith("refs/heads/")) {
    return { ref, refType: "branch", refName: ref.slice("refs/heads/".length) };
  }
  if (ref.startsWith("refs/tags/")) {
    return { ref, refType: "tag", refName: ref.slice("refs/tags/".length) };
  }
  return undefined;
}

export function refOf(refType: Change["refType"], refName: string): RefParts {
  const prefix = refType === "branch" ? "refs/heads/" : "refs/tags/";
  return { ref: `${prefix}${refName}`, refType, refName };
}

/** Hosts write a deleted ref's new sha as zeros (40 for SHA-1 repositories, 64 for SHA-256). */
export function isAllZeros(sha: string): boolean {
  return /^0+$/.test(sha);
}

export function deletedReason(ref: RefParts): string {
  return `${ref.refType} "${ref.refName}" was deleted; nothing to deploy`;
}

export function notBranchOrTagReason(ref: string): string {
  return `ref "${ref}" is neither a branch nor a tag`;
}

export interface CommitFiles {
  added?: string[] | undefined;
  modified?: string[] | undefined;
  removed?: string[] | undefined;
}

/**
 * The union of the files the listed commits touched, or null when the list cannot be
 * trusted to be complete: no commits listed (a new tag, a branch made at an existing
 * commit, a force-push backwards), the host cut the list short, or a commit without file
 * lists. A file path filter can then not be applied, and Sluice deploys rather than drop a
 * change that may have touched the filtered paths.
 */
export function changedPathsOf(
  commits: readonly CommitFiles[],
  totalCommits: number | undefined,
): string[] | null {
  if (commits.length === 0) return null;
  if (totalCommits !== undefined && totalCommits > commits.length) return null;
  const paths = new Set<string>();
  for (const commit of commits) {
    if (!commit.added || !commit.modified || !commit.removed) return null;
    for (const path of [...commit.added, ...commit.modified, ...commit.removed]) paths.add(path);
  }
  return [...paths];
}

export type AuthorIdentity = Pick<Change, "authorEmail" | "authorUsername">;

/**
 * The email and username of the person a change is credited to, each left out when the host
 * sent none: hosts hide emails as an empty string or a placeholder such as `[REDACTED]`, so only
 * a value with an `@` is taken for one.
 */
export function identityOf(
  email: string | null | undefined,
  username: string | null | undefined,
): AuthorIdentity {
  const identity: AuthorIdentity = {};
  if (email?.includes("@")) identity.authorEmail = email;
  if (username) identity.authorUsername = username;
  return identity;
}
