/**
 * CodeDeploy's minimum-healthy-hosts rules for in-place deployments, as plain functions over
 * plain data, so they can be checked without a fleet.
 *
 * - The minimum is HOST_COUNT k, or FLEET_PERCENT p of the fleet rounded up; OneAtATime is
 *   "all but one" (GetDeploymentConfig calls it MOST_CONCURRENCY 1).
 * - A minimum at or above the fleet size fails the deployment before any host is touched.
 * - A host is out of service while it is deployed to, when its deployment failed, and when its
 *   previous deployment failed (it is unhealthy) until it succeeds again. A healthy host is
 *   only taken out of service while at least the minimum stays in service besides it.
 * - Unhealthy hosts go first; they are out of service already, so taking them costs nothing,
 *   but no more than fleet size minus minimum hosts are ever deployed to at once.
 * - The deployment succeeds when at least the minimum (and at least one host) succeeded, and
 *   stops early when that can no longer happen, or when no further host may be taken out of
 *   service: the hosts never attempted are skipped and keep their revision.
 */

export type MinimumHealthyHostsType = "HOST_COUNT" | "FLEET_PERCENT" | "MOST_CONCURRENCY";

export interface MinimumHealthyHosts {
  readonly type: MinimumHealthyHostsType;
  readonly value: number;
}

export type HostStatus = "Pending" | "InProgress" | "Succeeded" | "Failed" | "Skipped";

export interface HostProgress {
  readonly name: string;
  readonly status: HostStatus;
  /** Whether the host's last deployment before this one succeeded (or it never had one). */
  readonly healthyBefore: boolean;
}

/** How many hosts must stay healthy: what the config asks, in hosts. */
export function minimumHealthyHosts(config: MinimumHealthyHosts, fleetSize: number): number {
  switch (config.type) {
    case "HOST_COUNT":
      return config.value;
    case "FLEET_PERCENT":
      // Integer arithmetic: 40 % of 9 is 3.6, which rounds up to 4.
      return Math.ceil((config.value * fleetSize) / 100);
    case "MOST_CONCURRENCY":
      return Math.max(0, fleetSize - config.value);
  }
}

/** How many hosts must succeed for the deployment to succeed. */
export function requiredSuccesses(config: MinimumHealthyHosts, fleetSize: number): number {
  return Math.max(1, minimumHealthyHosts(config, fleetSize));
}

/** The most hosts deployed to at the same time. */
export function maxConcurrent(config: MinimumHealthyHosts, fleetSize: number): number {
  return Math.max(0, fleetSize - minimumHealthyHosts(config, fleetSize));
}

/**
 * Why a deployment cannot start on this fleet, in CodeDeploy's words, or undefined when it can.
 */
export function cannotStart(
  config: MinimumHealthyHosts,
  fleetSize: number,
): { code: "NO_INSTANCES" | "HEALTH_CONSTRAINTS_INVALID"; message: string } | undefined {
  if (fleetSize === 0) {
    return {
      code: "NO_INSTANCES",
      message:
        "The deployment failed because no instances were found for your deployment group. Check your deployment group settings to make sure the tags for your on-premises instances correctly identify the instances you want to deploy to, and then try again.",
    };
  }
  const minimum = minimumHealthyHosts(config, fleetSize);
  if (minimum >= fleetSize) {
    return {
      code: "HEALTH_CONSTRAINTS_INVALID",
      message: `The deployment failed because the minimum number of healthy instances (${minimum}) is not less than the number of instances in the deployment group (${fleetSize}).`,
    };
  }
  return undefined;
}

/** Unhealthy hosts first, then by name, as CodeDeploy deploys them. */
export function deploymentOrder<H extends HostProgress>(hosts: readonly H[]): H[] {
  return [...hosts].sort(
    (a, b) => Number(a.healthyBefore) - Number(b.healthyBefore) || a.name.localeCompare(b.name),
  );
}

/** Hosts that serve now: succeeded in this deployment, or healthy and not yet touched. */
export function inService(hosts: readonly HostProgress[]): number {
  return hosts.filter(
    (h) =>
      h.status === "Succeeded" ||
      ((h.status === "Pending" || h.status === "Skipped") && h.healthyBefore),
  ).length;
}

/**
 * The hosts to start deploying to now, in order, given where every host is. Empty when none
 * may start yet (or ever: see `outcome`).
 */
export function nextHosts(config: MinimumHealthyHosts, hosts: readonly HostProgress[]): string[] {
  const fleetSize = hosts.length;
  if (cannotStart(config, fleetSize) || successIsOutOfReach(config, hosts)) return [];
  const minimum = minimumHealthyHosts(config, fleetSize);
  let slots = maxConcurrent(config, fleetSize) - count(hosts, "InProgress");
  let serving = inService(hosts);
  const picked: string[] = [];
  for (const host of deploymentOrder(hosts)) {
    if (slots <= 0) break;
    if (host.status !== "Pending") continue;
    if (host.healthyBefore) {
      if (serving - 1 < minimum) break;
      serving -= 1;
    }
    picked.push(host.name);
    slots -= 1;
  }
  return picked;
}

export type Outcome = "InProgress" | "Succeeded" | "Failed";

/**
 * Where the deployment stands: still going while a host is deployed to or another may be
 * started; otherwise succeeded if enough hosts did.
 */
export function outcome(config: MinimumHealthyHosts, hosts: readonly HostProgress[]): Outcome {
  if (cannotStart(config, hosts.length)) return "Failed";
  if (count(hosts, "InProgress") > 0 || nextHosts(config, hosts).length > 0) return "InProgress";
  return count(hosts, "Succeeded") >= requiredSuccesses(config, hosts.length)
    ? "Succeeded"
    : "Failed";
}

function successIsOutOfReach(config: MinimumHealthyHosts, hosts: readonly HostProgress[]) {
  const stillPossible = hosts.filter((h) => h.status !== "Failed" && h.status !== "Skipped");
  return stillPossible.length < requiredSuccesses(config, hosts.length);
}

function count(hosts: readonly HostProgress[], status: HostStatus): number {
  return hosts.filter((h) => h.status === status).length;
}
