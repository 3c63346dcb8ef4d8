import type { App } from "./app";
import type { LifecycleEvent } from "./lifecycle-events";
import type { ProgressPlan } from "./progress";
import type { Revision } from "./revision";
import type { Run, RunView } from "./run";

/** What use cases need from the outside world; adapters/ implements them over AWS clients. */
export interface AppRepository {
  get(name: string): Promise<App | undefined>;
  put(app: App): Promise<void>;
}

export interface RunRepository {
  create(run: Run): Promise<void>;
  get(runId: string): Promise<RunView | undefined>;
  listByApp(app: string, limit?: number): Promise<RunView[]>;
  setExecutionArn(runId: string, executionArn: string, now: string): Promise<void>;
  pinRevision(runId: string, revision: Revision, now: string): Promise<void>;
  applyProgress(runId: string, change: Omit<ProgressPlan, "event">, now: string): Promise<void>;
}

export interface EventPublisher {
  publish(events: readonly LifecycleEvent[]): Promise<void>;
}

export interface PipelineStarter {
  /** Returns the execution ARN; starting the same run twice returns the first execution. */
  start(runId: string, input: unknown): Promise<string>;
}

export interface ObjectHead {
  etag: string;
  size: number;
  versionId?: string;
}

export interface ReleaseObjects {
  readonly bucket: string;
  head(key: string, versionId?: string): Promise<ObjectHead | undefined>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
