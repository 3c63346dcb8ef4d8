import { describe, expect, it } from "vitest";
import { deliveryMetrics, type MetricsRun, productionDeployments } from "../../domain/metrics";
import type { Plan } from "../../domain/plan";
import { appMetrics, parseMetricsQuery } from "../../usecases/delivery-metrics";
import { MemoryApps, registerApp } from "../support/fakes";

const deployTo = (id: string): Plan["steps"][number] => ({
  id,
  kind: "deploy",
  application: "shop",
  deploymentGroup: id,
  deploymentConfig: "CodeDeployDefault.AllAtOnce",
  alarms: [],
  timeoutSeconds: 600,
});

/** beta (2), sign-off (3), then production: one-box (4), its bake (5), the rest (6). */
const RELEASE_PLAN: Plan = {
  steps: [
    { id: "source", kind: "source" },
    { id: "build", kind: "build" },
    deployTo("beta"),
    {
      id: "sign-off",
      kind: "approval",
      timeoutSeconds: 3600,
      approvers: [],
      requiredApprovals: 1,
      forbidSelfApproval: false,
      slack: true,
      email: true,
    },
    deployTo("production/one-box"),
    {
      id: "production/one-box/bake",
      kind: "bake",
      deploymentGroup: "one-box",
      alarms: [],
      seconds: 600,
    },
    deployTo("production/rest"),
  ],
};
const ROLLBACK_PLAN: Plan = {
  steps: [
    { id: "source", kind: "source" },
    { id: "build", kind: "build" },
    deployTo("production/one-box"),
    deployTo("production/rest"),
  ],
};

let serial = 0;
function run(
  status: MetricsRun["status"],
  createdAt: string,
  endedAt: string,
  more: Partial<MetricsRun> = {},
): MetricsRun {
  serial++;
  return {
    id: `R${serial}`,
    status,
    createdAt,
    endedAt,
    plan: more.kind === "rollback" ? ROLLBACK_PLAN : RELEASE_PLAN,
    cursor: 6,
    ...more,
  };
}

const PERIOD = { from: "2026-01-01T00:00:00.000Z", to: "2026-01-08T00:00:00.000Z" };

/**
 * A week of one app's runs, with answers worked out by hand:
 * in the period, production saw r1 S, r3 F, r4 S (rollback), r5 S, r6 F, r7 F, r8 S, r10 F.
 */
const HISTORY: MetricsRun[] = [
  // Before the period: not counted.
  run("SUCCEEDED", "2025-12-30T10:00:00Z", "2025-12-30T12:00:00Z"),
  // r1: commit 08:00 → production 10:00, lead time 2 h.
  run("SUCCEEDED", "2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z", {
    change: { committedAt: "2026-01-01T08:00:00Z" },
  }),
  // r2: failed in beta: nothing reached production.
  run("FAILED", "2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z", { cursor: 2 }),
  // r3: rolled back from the one-box wave: an incident opens at 12:00.
  run("ROLLED_BACK", "2026-01-02T11:00:00Z", "2026-01-02T12:00:00Z", { cursor: 4 }),
  // r4: a rollback to the last release, 30 min later: recovery, and rework.
  run("SUCCEEDED", "2026-01-02T12:10:00Z", "2026-01-02T12:30:00Z", { kind: "rollback" }),
  // r5: no commit time known: lead time from run creation, 4 h.
  run("SUCCEEDED", "2026-01-03T09:00:00Z", "2026-01-03T13:00:00Z"),
  // r6: failed in the last wave at 10:00; r7: stopped in the one-box wave (rework that failed).
  run("FAILED", "2026-01-05T08:00:00Z", "2026-01-05T10:00:00Z", { cursor: 6 }),
  run("STOPPED", "2026-01-05T10:10:00Z", "2026-01-05T11:00:00Z", { cursor: 4 }),
  // r8: the fix: commit 10:30 → 12:00, lead time 1.5 h; recovers r6's incident after 2 h.
  run("SUCCEEDED", "2026-01-05T11:05:00Z", "2026-01-05T12:00:00Z", {
    change: { committedAt: "2026-01-05T10:30:00Z" },
  }),
  // r9: superseded before it started: no deployment.
  run("SUPERSEDED", "2026-01-06T09:00:00Z", "2026-01-06T09:01:00Z", { cursor: -1 }),
  // r10: its bake failed; not recovered within the period.
  run("FAILED", "2026-01-07T19:00:00Z", "2026-01-07T20:00:00Z", { cursor: 5 }),
  // r11: after the period.
  run("SUCCEEDED", "2026-01-07T23:00:00Z", "2026-01-08T01:00:00Z"),
];

describe("delivery metrics over a seeded history", () => {
  const metrics = deliveryMetrics(productionDeployments(HISTORY, "production"), PERIOD);

  it("counts the production deployments of the period, successes and failures", () => {
    expect(metrics.deployments).toEqual({ total: 8, succeeded: 4, failed: 4 });
    expect(metrics.period.days).toBe(7);
  });

  it("gives the deployment frequency as successful production deployments per day and week", () => {
    expect(metrics.deploymentFrequency.deployments).toBe(4);
    expect(metrics.deploymentFrequency.perDay).toBeCloseTo(4 / 7, 10);
    expect(metrics.deploymentFrequency.perWeek).toBeCloseTo(4, 10);
  });

  it("measures lead time of releases from their commit, else their run's creation", () => {
    // 5400 (r8), 7200 (r1), 14400 (r5): the rollback r4 carries no change of its own.
    expect(metrics.changeLeadTime).toEqual({
      medianSeconds: 7200,
      samples: 3,
      startedFrom: { commit: 2, "run-created": 1 },
    });
  });

  it("gives the change fail rate as failed production deployments over all of them", () => {
    expect(metrics.changeFailRate).toEqual({ rate: 0.5, failed: 4, deployments: 8 });
  });

  it("measures recovery per incident, from its first failure to the next success", () => {
    // r3 → r4: 1800 s; r6 (r7 failed within it) → r8: 7200 s; r10 still open.
    expect(metrics.failedDeploymentRecoveryTime).toEqual({
      medianSeconds: 4500,
      incidents: 3,
      unrecovered: 1,
    });
  });

  it("counts as rework the deployments made while production was in an incident, and rollbacks", () => {
    // r4, r7, r8.
    expect(metrics.deploymentReworkRate).toEqual({ rate: 3 / 8, rework: 3, deployments: 8 });
  });
});

describe("delivery metrics at the edges", () => {
  it("says null, not 0, where there is nothing to measure", () => {
    const metrics = deliveryMetrics([], PERIOD);

    expect(metrics.changeFailRate.rate).toBeNull();
    expect(metrics.changeLeadTime.medianSeconds).toBeNull();
    expect(metrics.failedDeploymentRecoveryTime).toEqual({
      medianSeconds: null,
      incidents: 0,
      unrecovered: 0,
    });
    expect(metrics.deploymentFrequency.perDay).toBe(0);
  });

  it("takes an incident opened before the period as the reason for the fix in it, without timing it", () => {
    const history = [
      run("FAILED", "2025-12-31T22:00:00Z", "2025-12-31T23:00:00Z", { cursor: 4 }),
      run("SUCCEEDED", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"),
    ];

    const metrics = deliveryMetrics(productionDeployments(history, "production"), PERIOD);

    expect(metrics.deploymentReworkRate).toEqual({ rate: 1, rework: 1, deployments: 1 });
    expect(metrics.failedDeploymentRecoveryTime.incidents).toBe(0);
    expect(metrics.changeFailRate.rate).toBe(0);
  });

  it("counts no production deployment for an app without a production stage", () => {
    expect(productionDeployments(HISTORY, "live")).toEqual([]);
  });
});

describe("an app's metrics over a period asked for", () => {
  const NOW = new Date("2026-01-31T12:00:00.000Z");

  it("reads the period from ISO dates or times, by default the 30 days up to now", () => {
    expect(parseMetricsQuery(undefined, NOW)).toEqual({
      from: "2026-01-01T12:00:00.000Z",
      to: "2026-01-31T12:00:00.000Z",
    });
    expect(parseMetricsQuery({ from: "2026-01-01", to: "2026-01-08T00:00:00+01:00" }, NOW)).toEqual(
      { from: "2026-01-01T00:00:00.000Z", to: "2026-01-07T23:00:00.000Z" },
    );
    expect(() => parseMetricsQuery({ from: "last week" }, NOW)).toThrow(/invalid metrics query/);
  });

  it("reads the app's runs from 30 days before the period, and counts its production stage's", async () => {
    const apps = new MemoryApps();
    await registerApp(apps, {
      stages: [
        { name: "beta", deploy: { deploymentGroup: "beta" } },
        { name: "production", production: { waves: [{ name: "one-box", deploymentGroup: "p1" }] } },
      ],
    });
    const asked: string[][] = [];
    const runs = {
      listCreatedBetween: async (app: string, from: string, to: string) => {
        asked.push([app, from, to]);
        return HISTORY;
      },
    };

    const metrics = await appMetrics({ apps, runs }, "shop", PERIOD);

    expect(asked).toEqual([["shop", "2025-12-02T00:00:00.000Z", PERIOD.to]]);
    expect(metrics).toMatchObject({
      app: "shop",
      productionStage: "production",
      deployments: { total: 8, succeeded: 4, failed: 4 },
    });
  });

  it("refuses a period that ends before it starts, or longer than a year", async () => {
    const ports = { apps: new MemoryApps(), runs: { listCreatedBetween: async () => [] } };

    await expect(appMetrics(ports, "shop", { from: PERIOD.to, to: PERIOD.from })).rejects.toThrow(
      "from must be before to",
    );
    await expect(
      appMetrics(ports, "shop", { from: "2024-01-01T00:00:00Z", to: PERIOD.to }),
    ).rejects.toThrow("a period is at most 366 days");
  });
});
