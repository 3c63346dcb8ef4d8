import type { LocalStack } from "../local/stack";

type End = "Run Succeeded" | "Run Failed";

/** Each run's end, as its "Run Succeeded" or "Run Failed" event reaches the bus. */
export class RunEnds {
  private readonly ends = new Map<string, End>();
  private readonly endedOfApp = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(stack: LocalStack) {
    stack.eventBridge.subscribe((event) => {
      const { runId, app } = event.detail as { runId?: string; app?: string };
      const type = event["detail-type"];
      if (!runId || (type !== "Run Succeeded" && type !== "Run Failed")) return;
      this.ends.set(runId, type);
      if (app) this.endedOfApp.set(app, (this.endedOfApp.get(app) ?? 0) + 1);
      for (const listener of this.listeners) listener();
    });
  }

  failed(runId: string): boolean {
    return this.ends.get(runId) === "Run Failed";
  }

  untilEnded(runId: string): Promise<void> {
    return this.until(() => this.ends.has(runId)).then(() => undefined);
  }

  /** Resolves once `count` runs of the app have ended, or false at the deadline. */
  untilAppEnded(app: string, count: number, deadlineMs = 300_000): Promise<boolean> {
    return this.until(() => (this.endedOfApp.get(app) ?? 0) >= count, deadlineMs);
  }

  private until(condition: () => boolean, deadlineMs?: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (met: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(met);
      };
      const check = () => {
        if (condition()) done(true);
      };
      const timer =
        deadlineMs === undefined ? undefined : setTimeout(() => done(false), deadlineMs);
      this.listeners.add(check);
      check();
    });
  }
}
