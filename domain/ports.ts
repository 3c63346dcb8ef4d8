import type { App } from "./app";
import type { AuditAction } from "./audit";
import type { BundleRejection, BundleRelease } from "./bundles/release-record";
import type { Freeze, GroupLock } from "./holds";
import type { IntakeClaim } from "./intake-claims";
import type { LifecycleEvent } from "./lifecycle-events";
import type { BundleRevision } from "./revision";
import type { HostResult, Run, RunView } from "./run";
import type { RunTransition } from "./steps";

/** What use cases need from the outside world; adapters/ implements them over AWS clients. */
export interface AppRepository {
  get(name: string): Promise<App | undefined>;
  put(app: App): Promise<void>;
}

export interface RunRepository {
  /**
   * Records a new run with its events and the claims of the intake that brought it, all in one
   * write or nothing: a ClaimTakenError names a claim made before (the first, when several
   * were), a ConflictError says the run exists.
   */
  create(
    run: Run,
    events: readonly LifecycleEvent[],
    claims?: readonly IntakeClaim[],
  ): Promise<void>;
  get(runId: string): Promise<RunView | undefined>;
  /**
   * Writes the transition, its step records and its events together, or nothing: a
   * ConflictError when the run is no longer as the transition expects.
   */
  apply(runId: string, transition: RunTransition, now: string): Promise<void>;
  putTaskToken(runId: string, index: number, attempt: number, token: string): Promise<void>;
  /** The revision that last succeeded in a deployment group of the app, if any did. */
  lastGoodRevision(
    app: string,
    application: string,
    deploymentGroup: string,
  ): Promise<BundleRevision | undefined>;
  taskToken(runId: string, index: number, attempt: number): Promise<string | undefined>;
}

export interface QueuedRun {
  runId: string;
  createdAt: string;
}

/** Runs waiting their turn, and the one slot a queued or superseded app runs in. */
export interface RunQueue {
  enqueue(app: string, run: QueuedRun): Promise<void>;
  /** Oldest first, read consistently; the first `limit` of them when it is given. */
  waiting(app: string, limit?: number): Promise<QueuedRun[]>;
  /** Removes a waiting run; only one caller gets true, so only one acts on it. */
  take(app: string, run: QueuedRun): Promise<boolean>;
  holder(app: string): Promise<string | undefined>;
  /** Takes the slot if it is free, held by this run already, or held by `replacing`. */
  acquire(app: string, runId: string, replacing?: string): Promise<boolean>;
  release(app: string, runId: string): Promise<boolean>;
}

/** Records an operator's action that no transaction of the table carries. */
export interface AuditLog {
  record(action: AuditAction): Promise<void>;
  /** An event of no run (Bundle Rejected), kept in its app's trail. */
  recordEvent(event: {
    app: string;
    type: string;
    at: string;
    eventId: string;
    detail: Record<string, unknown>;
  }): Promise<void>;
}

export interface EventPublisher {
  publish(events: readonly LifecycleEvent[]): Promise<void>;
}

/** What Step Functions says of an execution; GONE when it knows no such execution. */
export type ExecutionStatus =
  | "RUNNING"
  | "SUCCEEDED"
  | "FAILED"
  | "TIMED_OUT"
  | "ABORTED"
  | "PENDING_REDRIVE"
  | "GONE";

export interface ExecutionEnd {
  status: ExecutionStatus;
  error?: string;
  cause?: string;
}

export interface PipelineEngine {
  /** The run's execution is named after it, so its ARN is known before it starts. */
  arnOf(runId: string): string;
  /** Starting the same run twice returns the first execution. */
  start(runId: string, input: unknown): Promise<string>;
  status(executionArn: string): Promise<ExecutionStatus>;
  describe(executionArn: string): Promise<ExecutionEnd>;
  stop(executionArn: string, error: string, cause: string): Promise<void>;
  /** Continues a failed, timed-out or stopped execution from the state it ended in. */
  redrive(executionArn: string): Promise<void>;
  /** Resumes a task waiting on its token. */
  succeedTask(token: string, output: unknown): Promise<void>;
  failTask(token: string, error: string, cause: string): Promise<void>;
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

/** Each app's webhook secret, kept encrypted; never logged. */
export interface WebhookSecretRepository {
  /** May answer from a short-lived cache; `fresh` reads the stored secret itself. */
  get(app: string, options?: { fresh?: boolean }): Promise<string | undefined>;
  /**
   * Replaces any earlier secret, so the old one stops verifying at once; `set` (who, when) is
   * kept beside it, never with the value.
   */
  put(app: string, secret: string, set?: { by: string; at: string }): Promise<void>;
}

export interface DeliveryKey {
  app: string;
  provider: string;
  deliveryId: string;
}

/** A webhook delivery that has been accepted, and the run it started. */
export interface DeliveryRecord extends DeliveryKey {
  runId: string;
  /** SHA-256 of the body as signed, hex. */
  payloadSha256: string;
  /** ISO 8601. */
  receivedAt: string;
  /** Epoch seconds after which the record may be forgotten. */
  expiresAt: number;
}

export interface DeliveryRepository {
  get(key: DeliveryKey): Promise<DeliveryRecord | undefined>;
}

/** A release bundle copied to a local file, with the SHA-256 of the bytes read. */
export interface DownloadedBundle {
  etag: string;
  size: number;
  sha256: string;
  versionId?: string;
  /** The object's user metadata, keys without their `x-amz-meta-` prefix. */
  metadata?: Record<string, string>;
}

export interface BundleDownloads {
  /**
   * Streams exactly that object (its version id, else its ETag) to a new file at `filePath`; a
   * bundle over maxBytes is refused as TOO_LARGE. Undefined when the object is gone or replaced.
   */
  download(
    object: { key: string; versionId?: string; etag?: string },
    filePath: string,
    maxBytes: number,
  ): Promise<DownloadedBundle | undefined>;
}

/** The bundle each app version was released with, and the uploads that were refused. */
export interface BundleLedger {
  /** The version's release; it is recorded together with its run (an IntakeClaim). */
  release(app: string, version: string): Promise<BundleRelease | undefined>;
  recordRejection(rejection: BundleRejection): Promise<void>;
  /** The version's release if it has one, and every refused upload of it, latest first. */
  history(
    app: string,
    version: string,
  ): Promise<{ release: BundleRelease | undefined; rejections: BundleRejection[] }>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A deployment of a release bundle to one CodeDeploy deployment group. */
export interface DeploymentRequest {
  application: string;
  deploymentGroup: string;
  deploymentConfig: string;
  description: string;
  revision: { bucket: string; key: string; versionId?: string; etag?: string };
}

export interface DeploymentState {
  deploymentId: string;
  deploymentGroup: string;
  /** CodeDeploy's: Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped, Ready. */
  status: string;
  error?: string;
}

export interface Deployments {
  create(request: DeploymentRequest): Promise<string>;
  stop(deploymentId: string): Promise<void>;
  state(deploymentId: string): Promise<DeploymentState>;
  /** Every host of the deployment and how its part ended. */
  hosts(deploymentId: string): Promise<HostResult[]>;
}

/** Which run's step waits on a deployment, and the token that resumes it. */
export interface DeploymentWait {
  deploymentId: string;
  runId: string;
  index: number;
  attempt: number;
  token: string;
}

export interface DeploymentWaits {
  put(wait: DeploymentWait): Promise<void>;
  get(deploymentId: string): Promise<DeploymentWait | undefined>;
}

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export interface Alarms {
  /** The current state of each named alarm; an alarm that does not exist is left out. */
  states(names: readonly string[]): Promise<Map<string, AlarmState>>;
}

/**
 * A step that an alarm's state change concerns: a deployment or a bake that an alarm going to
 * ALARM stops, or a wave held until its alarms are OK again.
 */
export interface AlarmWatch {
  alarm: string;
  kind: "deploy" | "bake" | "hold";
  runId: string;
  index: number;
  attempt: number;
  token: string;
}

export interface AlarmWatches {
  put(watches: readonly AlarmWatch[]): Promise<void>;
  of(alarm: string): Promise<AlarmWatch[]>;
  remove(watch: AlarmWatch): Promise<void>;
}

/**
 * One approver's link to one approval attempt, as stored: the token's hash only. It works
 * until `validUntil`, once, and only while its generation is the step's current one.
 */
export interface ApprovalLink {
  tokenHash: string;
  runId: string;
  index: number;
  attempt: number;
  generation: number;
  email: string;
  /** The approver's place in the plan's approvers. */
  approver: number;
  /** ISO 8601: the approval's timeout. */
  validUntil: string;
  createdAt: string;
  usedAt?: string;
}

export interface ApprovalLinks {
  /** Records new links; a link is used up only together with its decision (RunTransition). */
  issue(links: readonly ApprovalLink[]): Promise<void>;
  get(tokenHash: string): Promise<ApprovalLink | undefined>;
}

/** The stack's secret key that signs approval links; made on first use. */
export interface ApprovalLinkKey {
  key(): Promise<Uint8Array>;
}
/** Apps' freezes, each written with its "App Frozen" or "App Unfrozen" event. */
export interface Freezes {
  get(app: string): Promise<Freeze | undefined>;
  put(freeze: Freeze): Promise<void>;
  /** Lifts the app's freeze and answers it; undefined when it had none. */
  lift(app: string, by: string, reason: string, at: string): Promise<Freeze | undefined>;
}

/** Which group a lease is on: a CodeDeploy application's deployment group. */
export interface GroupKey {
  application: string;
  deploymentGroup: string;
}

/**
 * Leases on deployment groups, one holder each, across apps. A lease whose time has run out is
 * free for the taking.
 */
export interface GroupLocks {
  get(group: GroupKey): Promise<GroupLock | undefined>;
  /**
   * Takes the group for `lock.holder` if it is free, already this holder's, or its lease has run
   * out (`now` past `leaseUntil`); otherwise answers the lock that holds it.
   */
  acquire(lock: GroupLock, now: string): Promise<{ taken: true } | { taken: false; by: GroupLock }>;
  /** Moves the holder's lease on (and records its deployment); false when it no longer holds it. */
  renew(
    group: GroupKey,
    holder: string,
    leaseUntil: string,
    deploymentId?: string,
  ): Promise<boolean>;
  /** Lets the group go, if `holder` holds it. */
  release(group: GroupKey, holder: string): Promise<void>;
  /**
   * Notes on the group's lock, while `holder` holds it, that a wave waits for it: only the
   * release of a lock so noted wakes the waves it held (holdsReleased). False when `holder` no
   * longer holds it.
   */
  watch(group: GroupKey, holder: string): Promise<boolean>;
}

/** A step held by a blocker that something other than time lifts (a freeze, a lock). */
export interface HoldWatch {
  runId: string;
  index: number;
  attempt: number;
  token: string;
}

/** Held steps, kept under what holds them (freezeHold, lockHold). */
export interface HoldWatches {
  put(on: string, watch: HoldWatch): Promise<void>;
  of(on: string): Promise<HoldWatch[]>;
  remove(on: string, watch: HoldWatch): Promise<void>;
}

/** What a freeze's held steps are kept under. */
export const freezeHold = (app: string) => `FREEZE#${app}`;

/** What the steps waiting for a group's lock are kept under. */
export const lockHold = (group: GroupKey) => `LOCK#${group.application}#${group.deploymentGroup}`;
