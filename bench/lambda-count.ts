import { performance } from "node:perf_hooks";
import { LambdaRuntime } from "../local/lambda-runtime";

export interface Invocation {
  name: string;
  ms: number;
}

type Listener = (invocation: Invocation) => void;

/**
 * Every function invocation the local stack makes in this process (API routes, state machine
 * tasks, rules, streams, S3 notifications all go through LambdaRuntime.invoke), with how long
 * each took. It wraps the method and hands back the very promise it returns, so nothing the
 * runtime does changes.
 */
export class LambdaCount {
  private static installed: LambdaCount | undefined;
  private ended: Invocation[] = [];
  private running = 0;
  private readonly listeners = new Set<Listener>();

  static install(): LambdaCount {
    if (LambdaCount.installed) return LambdaCount.installed;
    const count = new LambdaCount();
    const invoke = LambdaRuntime.prototype.invoke;
    LambdaRuntime.prototype.invoke = function (this: LambdaRuntime, name, event) {
      const t0 = performance.now();
      count.running++;
      const invocation = invoke.call(this, name, event);
      const done = () => count.end({ name, ms: performance.now() - t0 });
      invocation.then(done, done);
      return invocation;
    };
    LambdaCount.installed = count;
    return count;
  }

  /** The invocations ended since the last call, and forgets them. */
  take(): Invocation[] {
    const taken = this.ended;
    this.ended = [];
    return taken;
  }

  onEnded(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once no invocation has been running for `quietMs` (what a run's last events set
   * off, such as the stream that publishes them, has then finished), or at the deadline.
   */
  async settled(quietMs = 250, deadlineMs = 10_000): Promise<void> {
    const deadline = performance.now() + deadlineMs;
    let quietSince = performance.now();
    while (performance.now() < deadline) {
      if (this.running > 0) quietSince = performance.now();
      else if (performance.now() - quietSince >= quietMs) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private end(invocation: Invocation): void {
    this.running--;
    this.ended.push(invocation);
    for (const listener of this.listeners) listener(invocation);
  }
}
