import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import type { z } from "zod";
import { logger } from "../../http/logger";
import { AwsServiceError } from "../aws-json-server";
import type { PutEventsEntry } from "../eventbridge";
import { BUILT_IN_CONFIGS, DEFAULT_DEPLOYMENT_CONFIG, type DeploymentConfig } from "./configs";
import {
  bootHost,
  type FetchedRevision,
  type HostTransition,
  newTargets,
  runHosts,
} from "./deployment-runner";
import { deploymentStateEntry, instanceStateEntry } from "./events";
import { HostFolder } from "./host-folders";
import { freeHostPort, nextFreePort } from "./host-ports";
import { HookProcesses } from "./processes";
import type { CreateDeploymentSchema, GroupSettingsSchema } from "./requests";
import { RevisionSource } from "./revision-source";
import { cannotStart, maxConcurrent, minimumHealthyHosts } from "./rules";
import {
  type CodeDeployState,
  CodeDeployStore,
  type Deployment,
  type DeploymentGroup,
  type DeploymentTarget,
  groupKey,
  type OnPremisesInstance,
  type S3Revision,
  type Tag,
} from "./store";
import { matchesAny } from "./tag-filters";

export interface LocalCodeDeployOptions {
  /** Where hosts' apps listen: host n gets base + n (or the next port free), 0 a free port at random. */
  hostPortBase?: number;
  /** Multiplies every hook timeout; tests shorten them. 1 is as the appspec says. */
  hookTimeoutScale?: number;
}

/** One host of the local fleet, as `npm start` and tests show it. */
export interface HostView {
  name: string;
  /** `<application>/<group>` of every group whose tag filters pick it. */
  groups: string[];
  port: number;
  url: string;
  /** Its folder; the appspec's absolute destinations are under `<folder>/root`. */
  folder: string;
  /** Its last successful deployment, and that deployment's revision: what it runs when healthy. */
  deploymentId?: string;
  revision?: S3Revision["s3Location"];
  /**
   * The deployment whose files are installed (`current`): a later one than `deploymentId` when
   * a deployment failed on the host after its Install.
   */
  installedDeploymentId?: string;
  healthy: boolean;
}

interface Dependencies {
  dir: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  putEvents(entries: PutEventsEntry[]): Promise<unknown>;
  options?: LocalCodeDeployOptions;
}

const ACTIVE = new Set(["Created", "Queued", "InProgress"]);

type StopReason =
  | { by: "request"; autoRollbackEnabled: boolean | undefined }
  | { by: "alarm"; alarms: string[] }
  | { by: "shutdown" };
const now = () => Date.now() / 1000;

/**
 * CodeDeploy for EC2/on-premises deployments over a local fleet: on-premises instances are
 * folders under the state folder, deployment groups pick them by tag, and deployments run the
 * appspec's hooks on them by CodeDeploy's rules. Everything it knows survives a restart.
 */
export class LocalCodeDeploy {
  private readonly running = new Map<string, { stop: AbortController; done: Promise<void> }>();
  private readonly transitionListeners = new Set<(t: HostTransition) => void>();
  private readonly endListeners = new Set<(d: Deployment) => void>();
  private readonly announcing = new Set<Promise<unknown>>();
  private readonly processes: HookProcesses;
  private readonly revisions: RevisionSource;
  /** Why a running deployment was stopped, until it ends. */
  private readonly stopReasons = new Map<string, StopReason>();
  private accepting = true;

  private constructor(
    private readonly deps: Dependencies,
    private readonly store: CodeDeployStore,
  ) {
    this.processes = new HookProcesses(path.join(deps.dir, "processes"));
    this.revisions = new RevisionSource(deps.region, deps.credentials);
  }

  static async open(deps: Dependencies): Promise<LocalCodeDeploy> {
    const codeDeploy = new LocalCodeDeploy(deps, await CodeDeployStore.open(deps.dir));
    codeDeploy.processes.killLeftovers();
    return codeDeploy;
  }

  private get state(): CodeDeployState {
    return this.store.state;
  }

  /** Resolves once every change made so far is on disk: API answers wait for it. */
  flushed(): Promise<void> {
    return this.store.flushed();
  }

  /** Every host, with the port its app listens on and the revision it runs. */
  hosts(): HostView[] {
    return Object.values(this.state.instances).map((instance) => {
      const last = instance.lastSuccessfulDeploymentId;
      const revision = last ? this.state.deployments[last]?.revision.s3Location : undefined;
      const installed = this.folder(instance).currentDeployment();
      return {
        name: instance.instanceName,
        groups: Object.values(this.state.deploymentGroups)
          .filter((g) => matchesAny(instance.tags, g.onPremisesInstanceTagFilters))
          .map((g) => groupKey(g.applicationName, g.deploymentGroupName)),
        port: instance.port,
        url: `http://127.0.0.1:${instance.port}`,
        folder: this.folder(instance).dir,
        ...(last ? { deploymentId: last } : {}),
        ...(revision ? { revision } : {}),
        ...(installed ? { installedDeploymentId: installed } : {}),
        healthy: instance.healthy,
      };
    });
  }

  /** Calls `listener` each time a host of a deployment changes state; returns the unsubscribe. */
  onHostTransition(listener: (transition: HostTransition) => void): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  /** The deployment once it has ended (Succeeded, Failed or Stopped). */
  deploymentEnded(deploymentId: string): Promise<Deployment> {
    const deployment = this.deployment(deploymentId);
    if (!ACTIVE.has(deployment.status)) return Promise.resolve(deployment);
    return new Promise((resolve) => {
      const listener = (ended: Deployment) => {
        if (ended.deploymentId !== deploymentId) return;
        this.endListeners.delete(listener);
        resolve(ended);
      };
      this.endListeners.add(listener);
    });
  }

  /**
   * Deployments a previous process left running cannot be picked up where they were (their
   * hooks were killed with it): they end Failed, announced as CodeDeploy would.
   */
  async endInterrupted(): Promise<void> {
    for (const deployment of Object.values(this.state.deployments)) {
      if (!ACTIVE.has(deployment.status)) continue;
      for (const target of Object.values(deployment.targets)) {
        if (target.status === "InProgress") {
          target.status = "Failed";
          const instance = this.state.instances[target.instanceName];
          if (instance) instance.healthy = false;
        } else if (target.status === "Pending") {
          target.status = "Skipped";
        }
      }
      this.finish(deployment, "Failed", {
        code: "AGENT_ISSUE",
        message:
          "The local CodeDeploy stopped while this deployment ran; it was ended when it started again.",
      });
    }
    await this.store.save();
  }

  /**
   * Starts the fleet's agent and brings every host's app back up after a restart (see
   * bootHost); a host whose app does not start is logged and left as it is: its next
   * deployment runs as usual.
   */
  async bootHosts(): Promise<void> {
    // The fleet's agent starts with its hosts, as CodeDeploy's agent does at boot: a first
    // deployment's hooks do not wait for a Node process to start (a second on a busy machine).
    if (Object.keys(this.state.instances).length > 0) this.processes.warm();
    const signal = new AbortController().signal;
    await Promise.all(
      Object.values(this.state.instances).map(async (instance) => {
        const deployment = instance.lastSuccessfulDeploymentId
          ? this.state.deployments[instance.lastSuccessfulDeploymentId]
          : undefined;
        if (!deployment) return;
        const ports = {
          processes: this.processes,
          timeoutScale: this.deps.options?.hookTimeoutScale ?? 1,
        };
        const result = await bootHost({
          deployment,
          instance,
          host: this.folder(instance),
          ports,
          signal,
        });
        if (typeof result === "object") {
          logger.warn("a local host's app did not start again", {
            host: instance.instanceName,
            ...result,
          });
        }
      }),
    );
  }

  /**
   * Stops, as CodeDeploy does, every running deployment whose alarms include this one: it ends
   * Stopped (ALARM_ACTIVE), and rolls back if its auto-rollback has DEPLOYMENT_STOP_ON_ALARM.
   */
  alarmRaised(alarmName: string): void {
    for (const [deploymentId, { stop }] of this.running) {
      const deployment = this.state.deployments[deploymentId];
      const alarms =
        deployment?.overrideAlarmConfiguration ??
        (deployment &&
          this.state.deploymentGroups[
            groupKey(deployment.applicationName, deployment.deploymentGroupName)
          ]?.alarmConfiguration);
      if (!alarms?.enabled || !alarms.alarms?.some((a) => a.name === alarmName)) continue;
      if (this.stopReasons.has(deploymentId)) continue;
      this.stopReasons.set(deploymentId, { by: "alarm", alarms: [alarmName] });
      stop.abort();
    }
  }

  /** Stops every deployment and every process the hosts run, and waits for the announcements. */
  async drain(): Promise<void> {
    this.accepting = false;
    for (const [deploymentId, { stop }] of this.running) {
      this.stopReasons.set(deploymentId, { by: "shutdown" });
      stop.abort();
    }
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    this.processes.killAll();
    await Promise.allSettled([...this.announcing]);
    await this.store.save();
    this.revisions.close();
  }

  // --- the fleet ------------------------------------------------------------------------

  async createApplication(applicationName: string): Promise<string> {
    if (this.state.applications[applicationName]) {
      throw new AwsServiceError(
        "ApplicationAlreadyExistsException",
        `Application '${applicationName}' already exists`,
      );
    }
    const applicationId = randomUUID();
    this.state.applications[applicationName] = {
      applicationId,
      applicationName,
      createTime: now(),
      computePlatform: "Server",
      linkedToGitHub: false,
    };
    await this.store.save();
    return applicationId;
  }

  async putDeploymentGroup(
    input: z.infer<typeof GroupSettingsSchema> & {
      applicationName: string;
      deploymentGroupName: string;
    },
    existing?: DeploymentGroup,
  ): Promise<DeploymentGroup> {
    this.application(input.applicationName);
    const configName =
      input.deploymentConfigName ?? existing?.deploymentConfigName ?? DEFAULT_DEPLOYMENT_CONFIG;
    this.config(configName);
    const group: DeploymentGroup = {
      ...existing,
      applicationName: input.applicationName,
      deploymentGroupId: existing?.deploymentGroupId ?? randomUUID(),
      deploymentGroupName: input.deploymentGroupName,
      deploymentConfigName: configName,
      onPremisesInstanceTagFilters:
        input.onPremisesInstanceTagFilters ?? existing?.onPremisesInstanceTagFilters ?? [],
      computePlatform: "Server",
      ...defined({
        serviceRoleArn: input.serviceRoleArn ?? existing?.serviceRoleArn,
        alarmConfiguration: input.alarmConfiguration ?? existing?.alarmConfiguration,
        autoRollbackConfiguration:
          input.autoRollbackConfiguration ?? existing?.autoRollbackConfiguration,
        deploymentStyle: input.deploymentStyle ?? existing?.deploymentStyle,
      }),
    };
    if (existing) {
      delete this.state.deploymentGroups[
        groupKey(existing.applicationName, existing.deploymentGroupName)
      ];
    }
    this.state.deploymentGroups[groupKey(group.applicationName, group.deploymentGroupName)] = group;
    await this.store.save();
    return group;
  }

  async registerInstance(
    instanceName: string,
    arns: { iamUserArn?: string; iamSessionArn?: string },
  ) {
    if (this.state.instances[instanceName]) {
      throw new AwsServiceError(
        "InstanceNameAlreadyRegisteredException",
        `The on-premises instance name ${instanceName} is already registered`,
      );
    }
    const instance: OnPremisesInstance = {
      instanceName,
      instanceArn: `arn:aws:codedeploy:${this.deps.region}:${this.deps.accountId}:instance/${instanceName}`,
      ...defined(arns),
      registerTime: now(),
      tags: [],
      port: await this.nextHostPort(),
      healthy: true,
    };
    this.state.instances[instanceName] = instance;
    await this.folder(instance).prepare();
    await this.store.save();
  }

  async tagInstances(instanceNames: readonly string[], tags: readonly Tag[], remove = false) {
    const instances = instanceNames.map((name) => this.instance(name));
    for (const instance of instances) {
      instance.tags = instance.tags.filter((t) => !tags.some((n) => n.Key === t.Key));
      if (!remove) instance.tags.push(...tags.map((t) => ({ Key: t.Key, Value: t.Value ?? "" })));
    }
    await this.store.save();
  }

  async createDeploymentConfig(config: DeploymentConfig["minimumHealthyHosts"], name: string) {
    if (
      this.state.deploymentConfigs[name] ||
      BUILT_IN_CONFIGS.some((c) => c.deploymentConfigName === name)
    ) {
      throw new AwsServiceError(
        "DeploymentConfigAlreadyExistsException",
        `Deployment Configuration already exists with name ${name}`,
      );
    }
    const deploymentConfigId = randomUUID();
    this.state.deploymentConfigs[name] = {
      deploymentConfigName: name,
      deploymentConfigId,
      minimumHealthyHosts: config,
      computePlatform: "Server",
      createTime: now(),
    };
    await this.store.save();
    return deploymentConfigId;
  }

  // --- deployments ----------------------------------------------------------------------

  async createDeployment(input: z.infer<typeof CreateDeploymentSchema>): Promise<string> {
    const deployment = this.newDeployment(input);
    await this.store.save();
    this.start(deployment);
    return deployment.deploymentId;
  }

  /** A new deployment in the state, not yet started: created and checked in one step. */
  private newDeployment(
    input: z.infer<typeof CreateDeploymentSchema>,
    rollbackOf?: Deployment,
  ): Deployment {
    if (!this.accepting)
      throw new AwsServiceError("ThrottlingException", "the local CodeDeploy is stopping", 400);
    const group = this.group(input.applicationName, input.deploymentGroupName);
    const configName = input.deploymentConfigName ?? group.deploymentConfigName;
    this.config(configName);
    const active = Object.values(this.state.deployments).find(
      (d) => d.deploymentGroupId === group.deploymentGroupId && ACTIVE.has(d.status),
    );
    if (active) {
      throw new AwsServiceError(
        "DeploymentLimitExceededException",
        `The Deployment Group '${group.deploymentGroupName}' already has an active Deployment '${active.deploymentId}'`,
      );
    }
    const deploymentId = `d-${randomBytes(12)
      .toString("base64url")
      .replace(/[^A-Za-z0-9]/g, "")
      .toUpperCase()
      .slice(0, 9)
      .padEnd(9, "0")}`;
    const instances = Object.values(this.state.instances).filter((i) =>
      matchesAny(i.tags, group.onPremisesInstanceTagFilters),
    );
    const deployment: Deployment = {
      deploymentId,
      applicationName: group.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      deploymentGroupId: group.deploymentGroupId,
      deploymentConfigName: configName,
      revision: input.revision,
      ...defined({
        previousRevision: group.targetRevision,
        description: input.description,
        autoRollbackConfiguration:
          input.autoRollbackConfiguration ?? group.autoRollbackConfiguration,
        overrideAlarmConfiguration: input.overrideAlarmConfiguration,
      }),
      status: "Created",
      createTime: now(),
      creator: rollbackOf ? "codeDeployRollback" : "user",
      fileExistsBehavior: input.fileExistsBehavior ?? "DISALLOW",
      ignoreApplicationStopFailures: input.ignoreApplicationStopFailures ?? false,
      ...(rollbackOf
        ? { rollbackInfo: { rollbackTriggeringDeploymentId: rollbackOf.deploymentId } }
        : {}),
      targets: newTargets(instances),
    };
    this.state.deployments[deploymentId] = deployment;
    group.lastAttemptedDeployment = summary(deployment);
    return deployment;
  }

  private start(deployment: Deployment): void {
    const { deploymentId } = deployment;
    const stop = new AbortController();
    const done = this.run(deployment, stop.signal)
      .catch((error: unknown) => logger.error("local deployment failed", { deploymentId, error }))
      .finally(() => this.running.delete(deploymentId));
    this.running.set(deploymentId, { stop, done });
  }

  async stopDeployment(deploymentId: string, autoRollbackEnabled: boolean | undefined) {
    const deployment = this.deployment(deploymentId);
    const running = this.running.get(deploymentId);
    if (!ACTIVE.has(deployment.status) || !running) {
      throw new AwsServiceError(
        "DeploymentAlreadyCompletedException",
        `Deployment ${deploymentId} has already completed`,
      );
    }
    this.stopReasons.set(deploymentId, { by: "request", autoRollbackEnabled });
    running.stop.abort();
    return { status: "Pending", statusMessage: "Stop request is pending" };
  }

  private async run(deployment: Deployment, signal: AbortSignal): Promise<void> {
    deployment.status = "InProgress";
    deployment.startTime = now();
    this.announce(deploymentStateEntry(this.deps, deployment, "START"));
    const config = this.config(deployment.deploymentConfigName).minimumHealthyHosts;
    const targets = Object.values(deployment.targets);
    const refused = cannotStart(config, targets.length);
    if (refused) {
      for (const target of targets) target.status = "Skipped";
      return this.end(deployment, "Failed", refused);
    }
    let revision: FetchedRevision;
    try {
      revision = await this.revisions.fetch(
        deployment.revision,
        path.join(this.deps.dir, "deployments", deployment.deploymentId),
      );
    } catch (error) {
      for (const target of targets) target.status = "Skipped";
      return this.end(deployment, "Failed", {
        code: "REVISION_MISSING",
        message: `The revision could not be fetched or is not a valid bundle: ${(error as Error).message}`,
      });
    }
    const result = await runHosts(
      deployment,
      config,
      revision,
      this.runnerPorts(deployment),
      signal,
    );
    if (result === "Succeeded") return this.end(deployment, "Succeeded");
    if (result === "Stopped") {
      const reason = this.stopReasons.get(deployment.deploymentId) ?? { by: "shutdown" };
      if (reason.by === "shutdown") {
        return this.end(deployment, "Failed", {
          code: "AGENT_ISSUE",
          message: "The local CodeDeploy stopped while this deployment ran.",
        });
      }
      return this.end(
        deployment,
        "Stopped",
        reason.by === "alarm"
          ? {
              code: "ALARM_ACTIVE",
              message: `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${reason.alarms.join(", ")}>`,
            }
          : { code: "MANUAL_STOP", message: "The deployment was stopped by a user." },
      );
    }
    const minimum = minimumHealthyHosts(config, targets.length);
    return this.end(deployment, "Failed", {
      code: "HEALTH_CONSTRAINTS",
      message: `The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems. (minimum healthy hosts: ${minimum} of ${targets.length}; at most ${maxConcurrent(config, targets.length)} at once)`,
    });
  }

  private async end(
    deployment: Deployment,
    status: "Succeeded" | "Failed" | "Stopped",
    error?: { code: string; message: string },
  ): Promise<void> {
    const group =
      this.state.deploymentGroups[
        groupKey(deployment.applicationName, deployment.deploymentGroupName)
      ];
    if (status === "Succeeded" && group) {
      group.targetRevision = deployment.revision;
      group.lastSuccessfulDeployment = { ...summary(deployment), status, endTime: now() };
    }
    this.finish(deployment, status, error);
    if (group) group.lastAttemptedDeployment = summary(deployment);
    const reason = this.stopReasons.get(deployment.deploymentId);
    this.stopReasons.delete(deployment.deploymentId);
    // In the same step as the end: no one sees the deployment ended without its rollbackInfo.
    const rollback =
      this.rollsBack(deployment, status, reason) && this.accepting
        ? this.rollBack(deployment, group)
        : undefined;
    await this.store.save();
    if (rollback) this.start(rollback);
    for (const listener of this.endListeners) listener(deployment);
  }

  private finish(
    deployment: Deployment,
    status: "Succeeded" | "Failed" | "Stopped",
    error?: { code: string; message: string },
  ): void {
    deployment.status = status;
    deployment.completeTime = now();
    if (error) deployment.errorInformation = error;
    const state = status === "Succeeded" ? "SUCCESS" : status === "Stopped" ? "STOP" : "FAILURE";
    this.announce(deploymentStateEntry(this.deps, deployment, state));
  }

  private rollsBack(deployment: Deployment, status: string, reason: StopReason | undefined) {
    if (deployment.creator === "codeDeployRollback" || status === "Succeeded") return false;
    const config = deployment.autoRollbackConfiguration;
    const on = (event: string) => config?.enabled === true && (config.events ?? []).includes(event);
    if (status === "Stopped" && reason?.by === "request") {
      return reason.autoRollbackEnabled ?? on("DEPLOYMENT_STOP_ON_REQUEST");
    }
    if (status === "Stopped" && reason?.by === "alarm") return on("DEPLOYMENT_STOP_ON_ALARM");
    return status === "Failed" && on("DEPLOYMENT_FAILURE");
  }

  /**
   * As CodeDeploy rolls back: a new deployment of the group's last successful revision, noted
   * on the one it rolls back; answers it, to be started once saved.
   */
  private rollBack(
    deployment: Deployment,
    group: DeploymentGroup | undefined,
  ): Deployment | undefined {
    const lastGood = group?.targetRevision;
    if (!group || !lastGood) {
      deployment.rollbackInfo = {
        rollbackMessage:
          "Automatic rollback was not performed: no earlier successful deployment of this deployment group was found.",
      };
      return undefined;
    }
    const rollback = this.newDeployment(
      {
        applicationName: group.applicationName,
        deploymentGroupName: group.deploymentGroupName,
        revision: lastGood,
        deploymentConfigName: deployment.deploymentConfigName,
        description: `Rollback of ${deployment.deploymentId}`,
        ignoreApplicationStopFailures: deployment.ignoreApplicationStopFailures,
        fileExistsBehavior: deployment.fileExistsBehavior,
      },
      deployment,
    );
    const rollbackId = rollback.deploymentId;
    deployment.rollbackInfo = {
      rollbackDeploymentId: rollbackId,
      rollbackMessage: `Deployment ${deployment.deploymentId} was rolled back by ${rollbackId}.`,
    };
    return rollback;
  }

  private runnerPorts(deployment: Deployment) {
    return {
      host: (instance: OnPremisesInstance) => this.folder(instance),
      instance: (name: string) => this.instance(name),
      processes: this.processes,
      changed: () => this.store.changed(),
      hostChanged: (transition: HostTransition) => {
        for (const listener of this.transitionListeners) listener(transition);
      },
      instanceEvent: (name: string, state: "START" | "SUCCESS" | "FAILURE") =>
        this.announce(instanceStateEntry(this.deps, deployment, name, state)),
      timeoutScale: this.deps.options?.hookTimeoutScale ?? 1,
    };
  }

  /**
   * Puts the event on the bus once the state it tells of is on disk, so no one hears of what a
   * crash could take back (a state that cannot be written is logged; the event still goes).
   */
  private announce(entry: PutEventsEntry): void {
    const put = this.store
      .save()
      .catch((error: unknown) =>
        logger.error("could not save the local CodeDeploy's state", { error }),
      )
      .then(() => this.deps.putEvents([entry]))
      .catch((error: unknown) => logger.error("could not announce a CodeDeploy event", { error }))
      .finally(() => this.announcing.delete(put));
    this.announcing.add(put);
  }

  private async nextHostPort(): Promise<number> {
    const base = this.deps.options?.hostPortBase ?? DEFAULT_HOST_PORT_BASE;
    const taken = new Set(Object.values(this.state.instances).map((i) => i.port));
    return base === 0 ? freeHostPort(taken) : nextFreePort(base, taken);
  }

  private folder(instance: OnPremisesInstance): HostFolder {
    return new HostFolder(path.join(this.deps.dir, "hosts", instance.instanceName));
  }

  // --- lookups, with CodeDeploy's errors ------------------------------------------------

  application(name: string) {
    const application = this.state.applications[name];
    if (!application) {
      throw new AwsServiceError(
        "ApplicationDoesNotExistException",
        `No application found for name: ${name}`,
      );
    }
    return application;
  }

  group(applicationName: string, name: string): DeploymentGroup {
    this.application(applicationName);
    const group = this.state.deploymentGroups[groupKey(applicationName, name)];
    if (!group) {
      throw new AwsServiceError(
        "DeploymentGroupDoesNotExistException",
        `No Deployment Group found for name: ${name}`,
      );
    }
    return group;
  }

  config(name: string): DeploymentConfig {
    const config =
      BUILT_IN_CONFIGS.find((c) => c.deploymentConfigName === name) ??
      this.state.deploymentConfigs[name];
    if (!config) {
      throw new AwsServiceError(
        "DeploymentConfigDoesNotExistException",
        `No deployment configuration found for name: ${name}`,
      );
    }
    return config;
  }

  configs(): DeploymentConfig[] {
    return [...BUILT_IN_CONFIGS, ...Object.values(this.state.deploymentConfigs)];
  }

  instance(name: string): OnPremisesInstance {
    const instance = this.state.instances[name];
    if (!instance) {
      throw new AwsServiceError(
        "InstanceNotRegisteredException",
        `The on-premises instance ${name} is not registered`,
      );
    }
    return instance;
  }

  deployment(id: string): Deployment {
    const deployment = this.state.deployments[id];
    if (!deployment) {
      throw new AwsServiceError(
        "DeploymentDoesNotExistException",
        `The deployment ${id} could not be found`,
      );
    }
    return deployment;
  }

  target(deploymentId: string, targetId: string): DeploymentTarget {
    const target = this.deployment(deploymentId).targets[targetId];
    if (!target) {
      throw new AwsServiceError(
        "DeploymentTargetDoesNotExistException",
        `The target ${targetId} is not part of deployment ${deploymentId}`,
      );
    }
    return target;
  }

  allApplications() {
    return Object.values(this.state.applications);
  }

  allGroups() {
    return Object.values(this.state.deploymentGroups);
  }

  allInstances() {
    return Object.values(this.state.instances);
  }

  allDeployments() {
    return Object.values(this.state.deployments);
  }
}

export const DEFAULT_HOST_PORT_BASE = 9100;

function summary(deployment: Deployment) {
  return {
    deploymentId: deployment.deploymentId,
    status: deployment.status,
    createTime: deployment.createTime,
    ...(deployment.completeTime ? { endTime: deployment.completeTime } : {}),
  };
}

/** The values that are set: an optional field is left out rather than written as undefined. */
function defined<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
