import { randomBytes } from "node:crypto";

/**
 * A task token: opaque to its holder, it names the execution it belongs to (so a restarted
 * stack finds it) and carries 256 random bits (so it cannot be guessed). Well under the
 * 2048 characters AWS allows.
 */
export function mintToken(executionArn: string): string {
  const body = JSON.stringify({ e: executionArn, n: randomBytes(32).toString("base64url") });
  return Buffer.from(body).toString("base64url");
}

/** The execution a token names, or undefined when it is no token of ours. */
export function executionOfToken(token: string): string | undefined {
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    const e = (body as { e?: unknown }).e;
    const n = (body as { n?: unknown }).n;
    return typeof e === "string" && typeof n === "string" ? e : undefined;
  } catch {
    return undefined;
  }
}

/** Where `$$.Task.Token` is read, the library is given this, and a task swaps in its token. */
export const TOKEN_PLACEHOLDER = `sluice-task-token-${randomBytes(12).toString("hex")}`;

export function withToken(value: unknown, token: string): unknown {
  if (typeof value === "string") return value.replaceAll(TOKEN_PLACEHOLDER, () => token);
  if (Array.isArray(value)) return value.map((v) => withToken(v, token));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withToken(v, token)]));
  }
  return value;
}
