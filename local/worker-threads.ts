import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** The TypeScript loader the stack's worker threads start with, whatever runs it (tsx, vitest). */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Replies awaited from across a thread boundary, each under the id its request was sent with:
 * messages between threads carry no answer of their own.
 */
export class AwaitedReplies {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  /** How many requests still wait for their reply. */
  get size(): number {
    return this.waiting.size;
  }

  /** Sends a request under a fresh id (through `send`), and answers with its reply. */
  request(send: (id: number) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      send(id);
    });
  }

  /** Settles the request `id` with its reply; false when none waits under it. */
  settle(id: number, reply: { ok: true; value: unknown } | { ok: false; error: Error }): boolean {
    const waiting = this.waiting.get(id);
    if (!waiting) return false;
    this.waiting.delete(id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(reply.error);
    return true;
  }

  /** Fails every request still waiting, as when the other thread has gone. */
  rejectAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, { ok: false, error });
  }
}
