import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILT_IN_CONFIGS } from "../../local/codedeploy/configs";
import {
  cannotStart,
  type HostProgress,
  type HostStatus,
  inService,
  type MinimumHealthyHosts,
  maxConcurrent,
  minimumHealthyHosts,
  nextHosts,
  outcome,
  requiredSuccesses,
} from "../../local/codedeploy/rules";

const config = (name: string): MinimumHealthyHosts => {
  const found = BUILT_IN_CONFIGS.find(
    (c) => c.deploymentConfigName === `CodeDeployDefault.${name}`,
  );
  if (!found) throw new Error(name);
  return found.minimumHealthyHosts;
};
const ONE = config("OneAtATime");
const HALF = config("HalfAtATime");
const ALL = config("AllAtOnce");

interface Run {
  outcome: string;
  maxInProgress: number;
  maxOutOfService: number;
  attempted: string[];
  succeeded: number;
}

/**
 * Plays a deployment out: starts what nextHosts offers, finishes hosts in the order `pick`
 * chooses, each failing if it is in `failing`, until outcome says it is over.
 */
function play(
  minimum: MinimumHealthyHosts,
  fleet: { healthyBefore: boolean; fails: boolean }[],
  pick: (inProgress: number) => number = () => 0,
): Run {
  const hosts: { name: string; status: HostStatus; healthyBefore: boolean; fails: boolean }[] =
    fleet.map((h, i) => ({ name: `h${String(i).padStart(2, "0")}`, status: "Pending", ...h }));
  const run: Run = {
    outcome: "",
    maxInProgress: 0,
    maxOutOfService: 0,
    attempted: [],
    succeeded: 0,
  };
  for (;;) {
    for (const name of nextHosts(minimum, hosts)) {
      const host = hosts.find((h) => h.name === name) as (typeof hosts)[number];
      host.status = "InProgress";
      run.attempted.push(name);
    }
    const inProgress = hosts.filter((h) => h.status === "InProgress");
    run.maxInProgress = Math.max(run.maxInProgress, inProgress.length);
    run.maxOutOfService = Math.max(run.maxOutOfService, hosts.length - inService(hosts));
    if (inProgress.length === 0) break;
    const done = inProgress[pick(inProgress.length) % inProgress.length] as (typeof hosts)[number];
    done.status = done.fails ? "Failed" : "Succeeded";
  }
  run.outcome = outcome(minimum, hosts);
  run.succeeded = hosts.filter((h) => h.status === "Succeeded").length;
  return run;
}

const healthyFleet = (size: number, failing: number[] = []) =>
  Array.from({ length: size }, (_, i) => ({ healthyBefore: true, fails: failing.includes(i) }));

describe("CodeDeploy's minimum healthy hosts", () => {
  it("HalfAtATime on 9 hosts deploys at most 4 at once, and at least 5 must succeed", () => {
    expect(maxConcurrent(HALF, 9)).toBe(4);
    expect(requiredSuccesses(HALF, 9)).toBe(5);
    expect(play(HALF, healthyFleet(9)).maxInProgress).toBe(4);
    expect(play(HALF, healthyFleet(9, [5, 6, 7, 8])).outcome).toBe("Succeeded");
    expect(play(HALF, healthyFleet(9, [4, 5, 6, 7, 8])).outcome).toBe("Failed");
    // Four failures in the first batch leave 5 in service: none more may be taken down.
    expect(play(HALF, healthyFleet(9, [0, 1, 2, 3]))).toMatchObject({
      outcome: "Failed",
      succeeded: 0,
    });
  });

  it("FLEET_PERCENT rounds the healthy minimum up: 40 % of 9 is 4 healthy, 5 at once", () => {
    const forty: MinimumHealthyHosts = { type: "FLEET_PERCENT", value: 40 };
    expect(minimumHealthyHosts(forty, 9)).toBe(4);
    expect(maxConcurrent(forty, 9)).toBe(5);
  });

  it("HOST_COUNT k deploys up to N - k at once", () => {
    expect(maxConcurrent({ type: "HOST_COUNT", value: 6 }, 9)).toBe(3);
    expect(play({ type: "HOST_COUNT", value: 6 }, healthyFleet(9)).maxInProgress).toBe(3);
  });

  it("a minimum at or above the fleet size fails at once, touching no host", () => {
    for (const minimum of [
      { type: "HOST_COUNT", value: 3 },
      { type: "FLEET_PERCENT", value: 99 },
    ] as const) {
      expect(cannotStart(minimum, 3)?.code).toBe("HEALTH_CONSTRAINTS_INVALID");
      const run = play(minimum, healthyFleet(3));
      expect(run).toMatchObject({ outcome: "Failed", attempted: [] });
    }
    expect(cannotStart(HALF, 1)?.code).toBe("HEALTH_CONSTRAINTS_INVALID");
    expect(cannotStart(ALL, 0)?.code).toBe("NO_INSTANCES");
  });

  it("OneAtATime succeeds even if the last host fails, and stops at a failure before it", () => {
    expect(play(ONE, healthyFleet(4, [3]))).toMatchObject({ outcome: "Succeeded", succeeded: 3 });
    const early = play(ONE, healthyFleet(4, [1]));
    expect(early).toMatchObject({ outcome: "Failed", attempted: ["h00", "h01"] });
    // A single host is its own last host, but one failure there leaves nothing deployed.
    expect(play(ONE, healthyFleet(1, [0])).outcome).toBe("Failed");
  });

  it("AllAtOnce succeeds if any host does", () => {
    expect(play(ALL, healthyFleet(5, [0, 1, 2, 3]))).toMatchObject({
      outcome: "Succeeded",
      maxInProgress: 5,
    });
    expect(play(ALL, healthyFleet(5, [0, 1, 2, 3, 4])).outcome).toBe("Failed");
  });

  it("deploys unhealthy hosts first", () => {
    const fleet = healthyFleet(5).map((h, i) => ({ ...h, healthyBefore: i !== 3 }));
    expect(play(ONE, fleet).attempted[0]).toBe("h03");
  });

  it("holds its rules over any fleet, config and failures", () => {
    const minimum = fc.oneof(
      fc.constantFrom(ONE, HALF, ALL),
      fc.record({
        type: fc.constant("HOST_COUNT" as const),
        value: fc.integer({ min: 0, max: 12 }),
      }),
      fc.record({
        type: fc.constant("FLEET_PERCENT" as const),
        value: fc.integer({ min: 0, max: 99 }),
      }),
    );
    const fleet = fc.array(fc.record({ healthyBefore: fc.boolean(), fails: fc.boolean() }), {
      minLength: 1,
      maxLength: 12,
    });
    const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(minimum, fleet, picks, (config, hosts, order) => {
        let step = 0;
        const run = play(config, hosts, () => order[step++ % order.length] ?? 0);
        const size = hosts.length;
        const min = minimumHealthyHosts(config, size);
        if (min >= size) {
          expect(run.attempted).toEqual([]);
          expect(run.outcome).toBe("Failed");
          return;
        }
        expect(run.maxInProgress).toBeLessThanOrEqual(size - min);
        // Out of service: at most what the config allows, beyond hosts already unhealthy.
        const unhealthy = hosts.filter((h) => !h.healthyBefore).length;
        const failedHealthy = hosts.filter(
          (h, i) =>
            h.healthyBefore && h.fails && run.attempted.includes(`h${String(i).padStart(2, "0")}`),
        ).length;
        expect(run.maxOutOfService).toBeLessThanOrEqual(
          Math.max(size - min, unhealthy) + failedHealthy,
        );
        expect(run.outcome).toBe(run.succeeded >= Math.max(1, min) ? "Succeeded" : "Failed");
        // Unhealthy hosts are attempted before any healthy one.
        const firstHealthy = run.attempted.findIndex(
          (name) => hosts[Number(name.slice(1))]?.healthyBefore,
        );
        const lastUnhealthy = run.attempted.findLastIndex(
          (name) => !hosts[Number(name.slice(1))]?.healthyBefore,
        );
        if (firstHealthy >= 0 && lastUnhealthy >= 0)
          expect(lastUnhealthy).toBeLessThan(firstHealthy);
        // When every host that can succeed does, an achievable minimum is reached.
        if (hosts.every((h) => !h.fails)) expect(run.outcome).toBe("Succeeded");
      }),
      { numRuns: 500 },
    );
  });
});

describe("hosts out of service", () => {
  it("OneAtATime never has two out of service in a healthy fleet, HalfAtATime on 10 never six", () => {
    expect(play(ONE, healthyFleet(10)).maxOutOfService).toBe(1);
    expect(play(HALF, healthyFleet(10)).maxOutOfService).toBe(5);
  });

  it("counts a host as serving when it succeeded, or is healthy and untouched", () => {
    const hosts: HostProgress[] = [
      { name: "a", status: "Succeeded", healthyBefore: false },
      { name: "b", status: "Pending", healthyBefore: true },
      { name: "c", status: "Pending", healthyBefore: false },
      { name: "d", status: "InProgress", healthyBefore: true },
      { name: "e", status: "Failed", healthyBefore: true },
    ];
    expect(inService(hosts)).toBe(2);
  });
});
