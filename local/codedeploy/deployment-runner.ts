import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import {
  APPSPEC_FILE,
  type AppSpec,
  type HookName,
  parseAppSpec,
} from "../../domain/bundles/appspec";
import type { BundleFormat } from "../../domain/bundles/release-key";
import { ensureExecutable, type HostFolder } from "./host-folders";
import type { HookProcesses } from "./processes";
import {
  cannotStart,
  deploymentOrder,
  type MinimumHealthyHosts,
  nextHosts,
  outcome,
} from "./rules";
import type {
  Deployment,
  DeploymentTarget,
  LifecycleEvent,
  LifecycleEventName,
  OnPremisesInstance,
} from "./store";

/** The order the agent runs an in-place deployment's lifecycle events in. */
export const LIFECYCLE_EVENTS: readonly LifecycleEventName[] = [
  "ApplicationStop",
  "DownloadBundle",
  "BeforeInstall",
  "Install",
  "AfterInstall",
  "ApplicationStart",
  "ValidateService",
];

/** A host changing state within a deployment, for whoever watches the fleet (tests, the CLI). */
export interface HostTransition {
  deploymentId: string;
  instanceName: string;
  status: DeploymentTarget["status"];
  /** Hosts of the deployment out of service right after this change. */
  outOfService: number;
}

/** A revision fetched and checked once; each host gets its own copy of its files. */
export interface FetchedRevision {
  archive: string;
  format: BundleFormat;
  appspec: AppSpec;
  /** Puts the revision's files into an empty (or missing) folder of a host. */
  unpackInto(destination: string): Promise<void>;
}

/** What the runner needs from the stand-in around it. */
export interface RunnerPorts {
  host(instance: OnPremisesInstance): HostFolder;
  instance(name: string): OnPremisesInstance;
  processes: HookProcesses;
  /**
   * The deployment's state changed: it is written with the next event's save (an event waits
   * for the state it tells of), or soon after.
   */
  changed(): void;
  hostChanged(transition: HostTransition): void;
  instanceEvent(instanceName: string, state: "START" | "SUCCESS" | "FAILURE"): void;
  /** Multiplies every hook timeout (tests shorten them). */
  timeoutScale: number;
}

const now = () => Date.now() / 1000;

/**
 * Runs one deployment over its hosts by CodeDeploy's rules (see rules.ts): as many at once as
 * the config lets, unhealthy hosts first, each through the lifecycle events in order. Resolves
 * with the outcome once no host is running; `signal` stops it (running hooks are killed, hosts
 * not started are skipped).
 */
export async function runHosts(
  deployment: Deployment,
  config: MinimumHealthyHosts,
  revision: FetchedRevision,
  ports: RunnerPorts,
  signal: AbortSignal,
): Promise<"Succeeded" | "Failed" | "Stopped"> {
  const targets = Object.values(deployment.targets);
  const progress = () =>
    targets.map((t) => ({
      name: t.instanceName,
      status: t.status,
      healthyBefore: t.healthyBefore,
    }));
  if (cannotStart(config, targets.length)) return "Failed";
  const running = new Map<string, Promise<void>>();
  for (;;) {
    if (!signal.aborted) {
      for (const name of nextHosts(config, progress())) {
        const target = deployment.targets[name] as DeploymentTarget;
        setStatus(target, "InProgress");
        ports.hostChanged(transition(deployment, name));
        const run = deployHost(deployment, target, revision, ports, signal).finally(() =>
          running.delete(name),
        );
        running.set(name, run);
      }
      ports.changed();
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const target of targets) {
    if (target.status === "Pending") {
      setStatus(target, "Skipped");
      for (const event of target.lifecycleEvents) event.status = "Skipped";
      ports.hostChanged(transition(deployment, target.instanceName));
    }
  }
  ports.changed();
  if (signal.aborted) return "Stopped";
  return outcome(config, progress()) === "Succeeded" ? "Succeeded" : "Failed";
}

function setStatus(target: DeploymentTarget, status: DeploymentTarget["status"]): void {
  target.status = status;
  target.lastUpdatedAt = now();
}

function transition(deployment: Deployment, instanceName: string): HostTransition {
  const targets = Object.values(deployment.targets);
  const serving = targets.filter(
    (t) =>
      t.status === "Succeeded" || (t.healthyBefore && ["Pending", "Skipped"].includes(t.status)),
  ).length;
  const target = deployment.targets[instanceName] as DeploymentTarget;
  return {
    deploymentId: deployment.deploymentId,
    instanceName,
    status: target.status,
    outOfService: targets.length - serving,
  };
}

/** One host through every lifecycle event; the first that fails fails the host. */
async function deployHost(
  deployment: Deployment,
  target: DeploymentTarget,
  revision: FetchedRevision,
  ports: RunnerPorts,
  signal: AbortSignal,
): Promise<void> {
  const instance = ports.instance(target.instanceName);
  const host = ports.host(instance);
  await pruning.get(host.dir);
  ports.instanceEvent(target.instanceName, "START");
  const previous = instance.lastSuccessfulDeploymentId;
  const previousSpec = previous ? readAppSpec(host.bundleDir(previous)) : undefined;
  let failed = false;
  for (const event of target.lifecycleEvents) {
    if (failed || signal.aborted) {
      failed = true;
      event.status = "Skipped";
      continue;
    }
    event.status = "InProgress";
    event.startTime = now();
    ports.changed();
    const result = await runLifecycleEvent(event.lifecycleEventName, {
      deployment,
      instance,
      host,
      revision,
      previous:
        previous && previousSpec ? { deploymentId: previous, appspec: previousSpec } : undefined,
      ports,
      signal,
    });
    event.endTime = now();
    if (result === "Skipped") {
      event.status = "Skipped";
    } else if (result === "Succeeded") {
      event.status = "Succeeded";
    } else if (
      event.lifecycleEventName === "ApplicationStop" &&
      deployment.ignoreApplicationStopFailures
    ) {
      event.status = "Succeeded";
      event.diagnostics = result;
    } else {
      event.status = "Failed";
      event.diagnostics = result;
      failed = true;
    }
  }
  setStatus(target, failed ? "Failed" : "Succeeded");
  instance.healthy = !failed;
  if (!failed) instance.lastSuccessfulDeploymentId = deployment.deploymentId;
  prune(host, [instance.lastSuccessfulDeploymentId, deployment.deploymentId]);
  ports.hostChanged(transition(deployment, target.instanceName));
  ports.instanceEvent(target.instanceName, failed ? "FAILURE" : "SUCCESS");
  ports.changed();
}

/** Each host's prune, by its folder, while it runs: its next deployment waits for it. */
const pruning = new Map<string, Promise<void>>();

/** Prunes the host's old revisions once it is done, off the way of the hosts after it. */
function prune(host: HostFolder, keep: readonly (string | undefined)[]): void {
  const pruned = host
    .prune(keep)
    .catch(() => undefined)
    .finally(() => {
      if (pruning.get(host.dir) === pruned) pruning.delete(host.dir);
    });
  pruning.set(host.dir, pruned);
}

interface EventContext {
  deployment: Deployment;
  instance: OnPremisesInstance;
  host: HostFolder;
  revision: FetchedRevision;
  previous: { deploymentId: string; appspec: AppSpec } | undefined;
  ports: RunnerPorts;
  signal: AbortSignal;
}

type EventResult = "Succeeded" | "Skipped" | NonNullable<LifecycleEvent["diagnostics"]>;

/** What running a hook needs: the deployment it belongs to, the host, and the processes. */
type HookContext = Pick<EventContext, "deployment" | "instance" | "host" | "signal"> & {
  ports: Pick<RunnerPorts, "processes" | "timeoutScale">;
};

/**
 * Starts a host's app again with the ApplicationStart scripts of the revision it last deployed
 * successfully, as a machine whose service starts at boot: the local hosts go down with the
 * stack and come back up with it.
 */
export async function bootHost(context: HookContext): Promise<EventResult> {
  const bundleDir = context.host.bundleDir(context.deployment.deploymentId);
  const appspec = readAppSpec(bundleDir);
  if (!appspec) return "Skipped";
  return runHooks("ApplicationStart", appspec, bundleDir, context);
}

async function runLifecycleEvent(
  name: LifecycleEventName,
  context: EventContext,
): Promise<EventResult> {
  const { deployment, host, revision } = context;
  try {
    switch (name) {
      case "ApplicationStop": {
        // The scripts of the last revision that succeeded here stop what it started.
        if (!context.previous) return "Skipped";
        return runHooks(
          name,
          context.previous.appspec,
          host.bundleDir(context.previous.deploymentId),
          context,
        );
      }
      case "DownloadBundle":
        await revision.unpackInto(host.bundleDir(deployment.deploymentId));
        knowAppSpec(host.bundleDir(deployment.deploymentId), revision.appspec);
        return "Succeeded";
      case "Install":
        await host.install(deployment.deploymentId, revision.appspec);
        return "Succeeded";
      default:
        return runHooks(name, revision.appspec, host.bundleDir(deployment.deploymentId), context);
    }
  } catch (error) {
    return {
      errorCode: "UnknownError",
      scriptName: "",
      message: error instanceof Error ? error.message : String(error),
      logTail: "",
    };
  }
}

async function runHooks(
  name: HookName,
  appspec: AppSpec,
  bundleDir: string,
  context: HookContext,
): Promise<EventResult> {
  const scripts = appspec.hooks?.[name];
  if (!scripts?.length) return "Skipped";
  const user = userInfo().username;
  for (const script of scripts) {
    const location = script.location.replace(/^(\.?\/)+/, "");
    const file = path.join(bundleDir, location);
    const found = statSync(file, { throwIfNoEntry: false });
    if (!found?.isFile()) {
      return {
        errorCode: "ScriptMissing",
        scriptName: location,
        message: `Script does not exist at specified location: ${file}`,
        logTail: "",
      };
    }
    if (script.runas && script.runas !== user) {
      return {
        errorCode: "ScriptFailed",
        scriptName: location,
        message: `Script at specified location: ${location} asks to run as user ${script.runas}; the local fleet runs every hook as ${user}`,
        logTail: "",
      };
    }
    ensureExecutable(file, found);
    const timeoutSeconds = script.timeout;
    const run = await context.ports.processes.run({
      command: file,
      cwd: bundleDir,
      env: hookEnvironment(name, context),
      timeoutMs: timeoutSeconds * 1000 * context.ports.timeoutScale,
      logFile: context.host.logFile(context.deployment.deploymentId),
      signal: context.signal,
    });
    if (run.exitCode === 0 && !run.timedOut && !run.stopped) continue;
    return {
      errorCode: run.timedOut ? "ScriptTimedOut" : "ScriptFailed",
      scriptName: location,
      message: run.timedOut
        ? `Script at specified location: ${location} failed to complete in ${timeoutSeconds} seconds`
        : run.stopped
          ? `Script at specified location: ${location} was stopped with the deployment`
          : `Script at specified location: ${location} run as user ${user} failed with exit code ${run.exitCode}`,
      logTail: run.logTail,
    };
  }
  return "Succeeded";
}

/** CodeDeploy's variables, and where this host lives on this machine. */
function hookEnvironment(name: HookName, { deployment, instance, host }: HookContext) {
  return {
    PATH: [path.dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(
      path.delimiter,
    ),
    HOME: process.env.HOME ?? host.dir,
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    LIFECYCLE_EVENT: name,
    DEPLOYMENT_ID: deployment.deploymentId,
    APPLICATION_NAME: deployment.applicationName,
    DEPLOYMENT_GROUP_NAME: deployment.deploymentGroupName,
    DEPLOYMENT_GROUP_ID: deployment.deploymentGroupId,
    SLUICE_HOST_NAME: instance.instanceName,
    SLUICE_HOST_ROOT: host.root,
    SLUICE_HOST_PORT: String(instance.port),
  };
}

/** The targets of a new deployment, in the order they will be deployed to. */
export function newTargets(
  instances: readonly OnPremisesInstance[],
): Record<string, DeploymentTarget> {
  const targets = instances.map((instance) => ({
    name: instance.instanceName,
    healthyBefore: instance.healthy,
    status: "Pending" as const,
  }));
  return Object.fromEntries(
    deploymentOrder(targets).map((t) => [
      t.name,
      {
        instanceName: t.name,
        status: "Pending",
        healthyBefore: t.healthyBefore,
        lastUpdatedAt: now(),
        lifecycleEvents: LIFECYCLE_EVENTS.map((lifecycleEventName) => ({
          lifecycleEventName,
          status: "Pending",
        })),
      },
    ]),
  );
}

/**
 * The appspecs of hosts' revision folders, by file, with the size and time the file had: the
 * revision's own when it was copied there, or what was read from it since.
 */
const knownAppSpecs = new Map<string, { size: number; mtimeMs: number; appspec: AppSpec }>();
/** About the revisions a fleet of hundreds of hosts keeps; the oldest known goes first. */
const KNOWN_APPSPECS_KEPT = 1000;

/** Notes the appspec a revision folder's file holds now. */
function knowAppSpec(
  bundleDir: string,
  appspec: AppSpec,
  file = path.join(bundleDir, APPSPEC_FILE),
) {
  const found = statSync(file, { throwIfNoEntry: false });
  if (!found) return;
  const { size, mtimeMs } = found;
  knownAppSpecs.delete(file);
  knownAppSpecs.set(file, { size, mtimeMs, appspec });
  if (knownAppSpecs.size > KNOWN_APPSPECS_KEPT) {
    knownAppSpecs.delete(knownAppSpecs.keys().next().value as string);
  }
}

/**
 * The appspec of a revision a host unpacked earlier; none if its folder is gone. Each host's
 * deployment reads its last one's (for ApplicationStop): a file unchanged since the revision
 * was copied there (same size and modification time) is not parsed again.
 */
function readAppSpec(bundleDir: string): AppSpec | undefined {
  const file = path.join(bundleDir, APPSPEC_FILE);
  try {
    // Synchronous, as the host folders' metadata calls are (see HostFolder): one small file.
    const { size, mtimeMs } = statSync(file);
    const known = knownAppSpecs.get(file);
    if (known?.size === size && known.mtimeMs === mtimeMs) return known.appspec;
    const appspec = parseAppSpec(readFileSync(file, "utf8"));
    knowAppSpec(bundleDir, appspec, file);
    return appspec;
  } catch {
    return undefined;
  }
}
