import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { completeLines, writeFileAtomic } from "../files";
import { canonical } from "./items";

const WINDOW_MS = 10 * 60 * 1000;

interface Seen {
  token: string;
  /** The request's fingerprint (fingerprintOf). */
  request: string;
  at: number;
}

/**
 * What a retry with the same token must match: the request's parameters whatever order its
 * maps were written in, without the token, as a sha256 (a transaction's text can be 4 MB).
 */
export function fingerprintOf(request: Record<string, unknown>): string {
  const parameters = canonical({ ...request, ClientRequestToken: undefined });
  return createHash("sha256").update(parameters).digest("hex");
}

/** Files written before fingerprints were hashed hold the canonical text itself. */
const hashedIfText = (request: string) =>
  request.startsWith("{") ? createHash("sha256").update(request).digest("hex") : request;

/**
 * The ClientRequestTokens of committed transactions, for DynamoDB's ten minutes, kept in a
 * file too: a client retrying after the stack was killed under it gets its first answer, not
 * its transaction twice.
 */
export class RequestTokens {
  private readonly inProgress = new Set<string>();

  private constructor(
    private readonly fd: number,
    private readonly seen: Map<string, Seen>,
  ) {}

  static open(file: string, now = Date.now()): RequestTokens {
    const seen = new Map<string, Seen>();
    if (existsSync(file)) {
      for (const line of completeLines(readFileSync(file, "utf8"))) {
        const entry = JSON.parse(line) as Seen;
        if (now - entry.at < WINDOW_MS)
          seen.set(entry.token, { ...entry, request: hashedIfText(entry.request) });
      }
    }
    writeFileAtomic(file, [...seen.values()].map((s) => `${JSON.stringify(s)}\n`).join(""));
    return new RequestTokens(openSync(file, "a"), seen);
  }

  /** What became of the token: unseen, in progress, or committed with this request. */
  lookup(token: string): "unseen" | "in progress" | { request: string } {
    if (this.inProgress.has(token)) return "in progress";
    const seen = this.seen.get(token);
    if (!seen || Date.now() - seen.at >= WINDOW_MS) return "unseen";
    return seen;
  }

  begin(token: string): void {
    this.inProgress.add(token);
  }

  /** The transaction did not commit: the token is free again. */
  abandon(token: string): void {
    this.inProgress.delete(token);
  }

  committed(token: string, request: string): void {
    this.inProgress.delete(token);
    const entry = { token, request, at: Date.now() };
    this.seen.set(token, entry);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    for (const [key, old] of this.seen) {
      if (entry.at - old.at < WINDOW_MS) break;
      this.seen.delete(key);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
