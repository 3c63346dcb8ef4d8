import { appendFile, mkdir, readFile, rename, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { logger } from "../../http/logger";
import type { DeploymentConfig } from "./configs";
import type { HostStatus } from "./rules";

export interface Tag {
  Key: string;
  Value?: string;
}

export interface TagFilter {
  Key?: string | undefined;
  Value?: string | undefined;
  Type?: "KEY_ONLY" | "VALUE_ONLY" | "KEY_AND_VALUE" | undefined;
}

export interface S3Revision {
  revisionType: "S3";
  s3Location: {
    bucket: string;
    key: string;
    bundleType: "zip" | "tgz" | "tar";
    version?: string | undefined;
    eTag?: string | undefined;
  };
}

export interface AutoRollbackConfiguration {
  enabled?: boolean | undefined;
  events?: string[] | undefined;
}

export interface AlarmConfiguration {
  enabled?: boolean | undefined;
  ignorePollAlarmFailure?: boolean | undefined;
  alarms?: { name: string }[] | undefined;
}

export interface Application {
  applicationId: string;
  applicationName: string;
  createTime: number;
  computePlatform: "Server";
  linkedToGitHub: false;
}

export interface DeploymentSummary {
  deploymentId: string;
  status: string;
  endTime?: number;
  createTime: number;
}

export interface DeploymentGroup {
  applicationName: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  onPremisesInstanceTagFilters: TagFilter[];
  serviceRoleArn?: string;
  alarmConfiguration?: AlarmConfiguration;
  autoRollbackConfiguration?: AutoRollbackConfiguration;
  deploymentStyle?: Record<string, unknown>;
  /** The revision of the last successful deployment: a failed one leaves it as it was. */
  targetRevision?: S3Revision;
  lastSuccessfulDeployment?: DeploymentSummary;
  lastAttemptedDeployment?: DeploymentSummary;
  computePlatform: "Server";
}

export interface OnPremisesInstance {
  instanceName: string;
  instanceArn: string;
  iamUserArn?: string;
  iamSessionArn?: string;
  registerTime: number;
  tags: Tag[];
  /** The port the host's app is told to listen on (SLUICE_HOST_PORT). */
  port: number;
  /** The last deployment that succeeded on the host: its scripts run ApplicationStop next. */
  lastSuccessfulDeploymentId?: string;
  /** Whether its last deployment succeeded (or it had none): unhealthy hosts go first. */
  healthy: boolean;
}

export type LifecycleEventName =
  | "ApplicationStop"
  | "DownloadBundle"
  | "BeforeInstall"
  | "Install"
  | "AfterInstall"
  | "ApplicationStart"
  | "ValidateService";

export interface LifecycleEvent {
  lifecycleEventName: LifecycleEventName;
  status: "Pending" | "InProgress" | "Succeeded" | "Failed" | "Skipped" | "Unknown";
  startTime?: number;
  endTime?: number;
  diagnostics?: {
    errorCode:
      | "Success"
      | "ScriptMissing"
      | "ScriptNotExecutable"
      | "ScriptTimedOut"
      | "ScriptFailed"
      | "UnknownError";
    scriptName: string;
    message: string;
    logTail: string;
  };
}

export interface DeploymentTarget {
  instanceName: string;
  status: HostStatus;
  healthyBefore: boolean;
  lastUpdatedAt: number;
  lifecycleEvents: LifecycleEvent[];
}

export interface RollbackInfo {
  rollbackDeploymentId?: string;
  rollbackTriggeringDeploymentId?: string;
  rollbackMessage?: string;
}

export interface Deployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  deploymentConfigName: string;
  revision: S3Revision;
  previousRevision?: S3Revision;
  status: "Created" | "Queued" | "InProgress" | "Succeeded" | "Failed" | "Stopped";
  errorInformation?: { code: string; message: string };
  createTime: number;
  startTime?: number;
  completeTime?: number;
  description?: string;
  creator: "user" | "codeDeployRollback";
  fileExistsBehavior: "DISALLOW" | "OVERWRITE" | "RETAIN";
  ignoreApplicationStopFailures: boolean;
  autoRollbackConfiguration?: AutoRollbackConfiguration;
  /** Alarms watched instead of the group's. */
  overrideAlarmConfiguration?: AlarmConfiguration;
  rollbackInfo?: RollbackInfo;
  /** By instance name, in the order they are deployed to. */
  targets: Record<string, DeploymentTarget>;
}

export interface CodeDeployState {
  applications: Record<string, Application>;
  /** By `<application>/<group>`. */
  deploymentGroups: Record<string, DeploymentGroup>;
  instances: Record<string, OnPremisesInstance>;
  deploymentConfigs: Record<string, DeploymentConfig>;
  deployments: Record<string, Deployment>;
}

export const groupKey = (application: string, group: string) => `${application}/${group}`;

/** How long a change no one has been told of may wait for a write (see changed()). */
const UNTOLD_CHANGE_MS = 100;

/** Statuses a deployment ends in: it does not change after. */
const ENDED = new Set<Deployment["status"]>(["Succeeded", "Failed", "Stopped"]);

/** What the state file holds: the state but the ended deployments the archive keeps. */
interface StateFile extends CodeDeployState {
  /** How much of the archive is part of this state; what lies past it, a crash left. */
  archivedBytes?: number;
}

/**
 * Everything the stand-in knows, in one JSON file written whole (to a new file renamed into
 * place, so a crash leaves the old or the new state, never half of one). Changes made in the
 * same turn of the event loop share one write: a deployment over many hosts changes the state
 * at every lifecycle event, and writing it whole each time was most of the stand-in's cost.
 * Deployments that have ended (they do not change after) are appended once to an archive
 * beside it, a JSON line each, and left out of the file: each write is of what can still
 * change, not of every deployment ever made. The state file names how much of the archive
 * belongs to it, so the two are read back as one snapshot.
 */
export class CodeDeployStore {
  /** The write in flight or last done. */
  private written: Promise<void> = Promise.resolve();
  /** The write that will take in every change made until it starts, if one is asked for. */
  private next: Promise<void> | undefined;
  /** Changes made since the last write started that no save() has asked for yet. */
  private untold = false;
  private untoldTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly file: string,
    private readonly archive: string,
    readonly state: CodeDeployState,
    /** The ended deployments in the archive, and the archive's length. */
    private readonly archived: Set<string>,
    private archivedBytes: number,
  ) {}

  static async open(dir: string): Promise<CodeDeployStore> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "state.json");
    const archive = path.join(dir, "ended-deployments.jsonl");
    const text = await readIfThere(file);
    const saved: StateFile = text
      ? (JSON.parse(text) as StateFile)
      : {
          applications: {},
          deploymentGroups: {},
          instances: {},
          deploymentConfigs: {},
          deployments: {},
        };
    const { archivedBytes = 0, ...state } = saved;
    const archived = new Set<string>();
    if (archivedBytes > 0) {
      const lines = ((await readIfThere(archive, true)) ?? Buffer.alloc(0))
        .subarray(0, archivedBytes)
        .toString("utf8")
        .split("\n");
      for (const line of lines.filter(Boolean)) {
        const deployment = JSON.parse(line) as Deployment;
        state.deployments[deployment.deploymentId] ??= deployment;
        archived.add(deployment.deploymentId);
      }
    }
    // What a crash appended past the state's end is not part of it; the next append follows it.
    const size = (await stat(archive).catch(() => undefined))?.size ?? 0;
    if (size > archivedBytes) await truncate(archive, archivedBytes);
    return new CodeDeployStore(file, archive, state, archived, archivedBytes);
  }

  /**
   * Resolves once the state as it is now is on disk: in the next write, which starts once the
   * one in flight is done and this turn's other changes are made.
   */
  save(): Promise<void> {
    if (this.next) return this.next;
    const next = this.written
      .catch(() => undefined)
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(async () => {
        this.next = undefined;
        this.untold = false;
        await this.write();
      });
    this.next = next;
    this.written = next;
    return next;
  }

  /** The ended deployments not archived yet onto the archive, then the rest as the state. */
  private async write(): Promise<void> {
    const { deployments, ...rest } = this.state;
    const current: Record<string, Deployment> = {};
    const ended: Deployment[] = [];
    for (const [id, deployment] of Object.entries(deployments)) {
      if (this.archived.has(id)) continue;
      if (ENDED.has(deployment.status)) ended.push(deployment);
      else current[id] = deployment;
    }
    if (ended.length > 0) {
      const lines = Buffer.from(ended.map((d) => `${JSON.stringify(d)}\n`).join(""));
      try {
        await appendFile(this.archive, lines);
      } catch (err) {
        // Whatever part went on would misplace the next lines: the archive ends where it did.
        await truncate(this.archive, this.archivedBytes).catch(() => undefined);
        throw err;
      }
      this.archivedBytes += lines.length;
      for (const deployment of ended) this.archived.add(deployment.deploymentId);
    }
    const saved: StateFile = { ...rest, deployments: current, archivedBytes: this.archivedBytes };
    const temporary = `${this.file}.tmp`;
    await writeFile(temporary, JSON.stringify(saved));
    await rename(temporary, this.file);
  }

  /**
   * A change no one is told of (a lifecycle event's progress): written with the next save, by
   * an event or an API answer that tells of it, or within UNTOLD_CHANGE_MS.
   */
  changed(): void {
    this.untold = true;
    this.untoldTimer ??= setTimeout(() => {
      this.untoldTimer = undefined;
      if (!this.untold) return;
      this.save().catch((error: unknown) => {
        logger.error("could not save the local CodeDeploy's state", { error });
      });
    }, UNTOLD_CHANGE_MS).unref();
  }

  /** Resolves once every change made so far is on disk (at once when nothing is pending). */
  flushed(): Promise<void> {
    if (this.untold) return this.save();
    return this.next ?? this.written.catch(() => undefined);
  }
}

/** A file's text (or bytes), or undefined when there is none. */
async function readIfThere(file: string): Promise<string | undefined>;
async function readIfThere(file: string, bytes: true): Promise<Buffer | undefined>;
async function readIfThere(file: string, bytes?: true): Promise<string | Buffer | undefined> {
  try {
    return bytes ? await readFile(file) : await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
