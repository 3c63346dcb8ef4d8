import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
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

/**
 * Everything the stand-in knows, in one JSON file written whole (to a new file renamed into
 * place, so a crash leaves the old or the new state, never half of one). Changes made in the
 * same turn of the event loop share one write: a deployment over many hosts changes the state
 * at every lifecycle event, and writing it whole each time was most of the stand-in's cost.
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
    readonly state: CodeDeployState,
  ) {}

  static async open(dir: string): Promise<CodeDeployStore> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "state.json");
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    const state: CodeDeployState = text
      ? (JSON.parse(text) as CodeDeployState)
      : {
          applications: {},
          deploymentGroups: {},
          instances: {},
          deploymentConfigs: {},
          deployments: {},
        };
    return new CodeDeployStore(file, state);
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
        const text = JSON.stringify(this.state);
        const temporary = `${this.file}.tmp`;
        await writeFile(temporary, text);
        await rename(temporary, this.file);
      });
    this.next = next;
    this.written = next;
    return next;
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
