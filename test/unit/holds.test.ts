import { beforeEach, describe, expect, it } from "vitest";
import { BadRequestError, LockedError } from "../../domain/errors";
import type { GroupLock } from "../../domain/holds";
import { freezeEnd, holdSeconds } from "../../domain/holds";
import { windowBlocker } from "../../domain/wave-blockers";
import { windowState } from "../../domain/window-state";
import { deploymentChanged, startDeployment } from "../../usecases/deploy";
import { freezeApp, unfreezeApp } from "../../usecases/freezes";
import { checkWave, holdWave, overrideRun, releaseHolds } from "../../usecases/holds";
import { nextStep } from "../../usecases/next-step";
import { registerApp as registerDefinition } from "../../usecases/register-app";
import { rollBack, startRollback } from "../../usecases/rollback";
import { MemoryApps, memoryPorts, registerApp, startRun, steppingClock } from "../support/fakes";

const berlinWorkday = { cron: "0 9 * * MON-FRI", timeZone: "Europe/Berlin", durationMinutes: 480 };

describe("a deployment window", () => {
  it("is open from each time its cron names, in its time zone, for its duration", () => {
    // Tuesday 1 December 2026: 09:00 in Berlin is 08:00 UTC.
    expect(windowState(berlinWorkday, new Date("2026-12-01T08:30:00Z"))).toEqual({
      open: true,
      closes: new Date("2026-12-01T16:00:00Z"),
    });
    expect(windowState(berlinWorkday, new Date("2026-12-01T16:00:00Z"))).toEqual({
      open: false,
      opens: new Date("2026-12-02T08:00:00Z"),
    });
    // Saturday: the next window is Monday's.
    expect(windowState(berlinWorkday, new Date("2026-12-05T10:00:00Z"))).toEqual({
      open: false,
      opens: new Date("2026-12-07T08:00:00Z"),
    });
  });

  it("says, as a blocker, when it opens", () => {
    expect(windowBlocker(berlinWorkday, new Date("2026-12-05T10:00:00Z"))).toEqual({
      kind: "window",
      message:
        "outside its deployment window (0 9 * * MON-FRI Europe/Berlin, 480 min); it opens at 2026-12-07T08:00:00.000Z",
      until: "2026-12-07T08:00:00.000Z",
    });
  });

  it("is refused at registration with every problem named by its path", async () => {
    const definition = JSON.stringify({
      stages: [
        {
          name: "production",
          production: {
            window: { cron: "0 25 * * *", timeZone: "Mars/Olympus", durationMinutes: 0 },
            waves: [
              {
                deploymentGroup: "prod-1",
                window: { cron: "0 9 ? * MON-FRI *", durationMinutes: 60 },
              },
            ],
          },
        },
      ],
    });
    const ports = { apps: new MemoryApps(), clock: steppingClock() };

    const refusal = registerDefinition(ports, "shop", definition);

    await expect(refusal).rejects.toThrow(BadRequestError);
    const message = await refusal.catch((err: Error) => err.message);
    expect(message).toMatch(/^invalid pipeline definition: /);
    expect(message).toContain("stages.0.production.window.timeZone: an IANA time zone");
    expect(message).toContain("stages.0.production.window.durationMinutes:");
    expect(message).toContain(
      "stages.0.production.waves.0.window.cron: a window cron has 5 fields",
    );
    expect(message).toContain("stages.0.production.window.cron: Invalid value for hour: 25");
  });
});

describe("a freeze's end", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  it("is a time to come or a duration from now", () => {
    expect(freezeEnd("2026-12-27T08:00:00Z", now)?.toISOString()).toBe("2026-12-27T08:00:00.000Z");
    expect(freezeEnd("2026-12-27T08:00:00+01:00", now)?.toISOString()).toBe(
      "2026-12-27T07:00:00.000Z",
    );
    expect(freezeEnd("90m", now)?.toISOString()).toBe("2026-12-01T13:30:00.000Z");
    expect(freezeEnd("3d", now)?.toISOString()).toBe("2026-12-04T12:00:00.000Z");
    expect(freezeEnd("2026-11-01T00:00:00Z", now)).toBeUndefined();
    expect(freezeEnd("2026-12-27", now)).toBeUndefined();
    expect(freezeEnd("soon", now)).toBeUndefined();
  });
});

describe("a hold's timer", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  it("runs to when every blocker that lifts by itself has lifted, and at most a day", () => {
    const window = { kind: "window" as const, message: "w", until: "2026-12-01T12:10:00Z" };
    const freeze = { kind: "freeze" as const, message: "f", until: "2026-12-01T12:20:00Z" };
    const alarm = { kind: "alarm" as const, message: "a", alarms: ["x"] };
    expect(holdSeconds([window, freeze], now)).toBe(1200);
    expect(holdSeconds([alarm], now)).toBe(86_400);
    expect(holdSeconds([window, alarm], now)).toBe(600);
  });
});

describe("holds, overrides and locks", () => {
  let ports: ReturnType<typeof memoryPorts>;
  beforeEach(() => {
    ports = memoryPorts();
  });

  const bundle = {
    type: "bundle" as const,
    bucket: "releases",
    key: "shop/1.0.0.tar.gz",
    etag: '"abc"',
    sha256: "a".repeat(64),
  };

  /** A run of app `name` walked to its production wave on the shared group. */
  async function atWave(name: string, wave: Record<string, unknown> = {}) {
    const app = await registerApp(
      ports.apps,
      {
        codedeploy: { application: "shared" },
        stages: [
          {
            name: "production",
            production: { waves: [{ deploymentGroup: "prod", bakeMinutes: 10, ...wave }] },
          },
        ],
      },
      name,
    );
    const run = await startRun(ports, app, bundle, { type: "upload" });
    const source = await nextStep(ports, { runId: run.id, step: null });
    await nextStep(ports, { runId: run.id, step: source.step, result: bundle });
    return { runId: run.id, task: { runId: run.id, index: 2, attempt: 1 } };
  }

  it("hold a frozen app's production wave until the freeze is lifted", async () => {
    const { runId, task } = await atWave("shop");
    const freeze = await freezeApp(ports, "shop", "alice", { until: "2d", reason: "holidays" });

    const held = await checkWave(ports, task);
    await holdWave(ports, { ...task, taskToken: "hold" });
    const run = await ports.runs.get(runId);
    await unfreezeApp(ports, "shop", "bob", { reason: "fix needed" });
    await releaseHolds(ports, "FREEZE#shop");

    expect(held).toMatchObject({ held: true });
    expect(run?.stages.at(-1)).toMatchObject({
      status: "RUNNING",
      message: `held: app shop is frozen until ${freeze.until} by alice: holidays`,
      until: freeze.until,
    });
    expect(ports.executions.callbacks).toEqual([{ token: "hold", output: { released: true } }]);
    expect(await checkWave(ports, task)).toEqual({ held: false });
  });

  it("hold a wave its deploy task finds held, without deploying, until CheckWave lets it go", async () => {
    const { task } = await atWave("shop");
    await freezeApp(ports, "shop", "alice", { until: "2d", reason: "holidays" });

    await startDeployment(ports, { ...task, taskToken: "deploy" });
    const held = await checkWave(ports, task);
    await unfreezeApp(ports, "shop", "bob", { reason: "fix needed" });

    expect(ports.deployments.created).toEqual([]);
    expect(ports.executions.callbacks).toEqual([
      { token: "deploy", error: "Sluice.WaveHeld", cause: expect.stringMatching(/frozen/) },
    ]);
    expect(held).toMatchObject({ held: true });
    expect(await checkWave(ports, task)).toEqual({ held: false });
    await startDeployment(ports, { ...task, taskToken: "deploy again" });
    expect(ports.deployments.created).toHaveLength(1);
  });

  it("count as resumed, when the freeze lifts, only waves it still held, not one let go since", async () => {
    const { runId, task } = await atWave("shop");
    await freezeApp(ports, "shop", "alice", { until: "2d", reason: "holidays" });
    await checkWave(ports, task);
    await holdWave(ports, { ...task, taskToken: "hold" });
    await overrideRun(ports, runId, "alice", { reason: "hotfix" });

    await unfreezeApp(ports, "shop", "bob", { reason: "over" });

    expect(await releaseHolds(ports, "FREEZE#shop")).toBe(0);
    expect(await ports.holds.of("FREEZE#shop")).toEqual([]);
  });

  it("record who let a held wave go, why and when, and refuse one without a reason", async () => {
    const { runId, task } = await atWave("shop", {
      window: { cron: "0 0 1 7 *", durationMinutes: 1 },
    });
    await checkWave(ports, task);
    await holdWave(ports, { ...task, taskToken: "hold" });

    await expect(overrideRun(ports, runId, "alice", {})).rejects.toThrow(/reason/);
    const { override } = await overrideRun(ports, runId, "alice", { reason: "hotfix" });

    expect(override).toMatchObject({ by: "alice", reason: "hotfix", what: "hold" });
    expect(override.lifted.map((b) => b.kind)).toEqual(["window"]);
    expect(ports.executions.callbacks.at(-1)).toEqual({
      token: "hold",
      output: { overridden: true },
    });
    expect(await checkWave(ports, task)).toEqual({ held: false });
    const events = ports.runs.outbox.filter((e) => e.detailType === "Wave Overridden");
    expect(events).toHaveLength(1);
  });

  it("let one run deploy to a shared group at a time, the other naming the holder", async () => {
    const first = await atWave("shop");
    const second = await atWave("books");

    expect(await checkWave(ports, first.task)).toEqual({ held: false });
    const waiting = await checkWave(ports, second.task);
    const run = await ports.runs.get(second.runId);

    expect(waiting).toEqual({ held: true, seconds: 300 });
    expect(run?.stages.at(-1)?.message).toMatch(
      new RegExp(`^held: deployment group shared/prod is locked by run ${first.runId} \\(app shop`),
    );
    await expect(overrideRun(ports, second.runId, "alice", { reason: "go" })).rejects.toThrow(
      /no override lets go/,
    );
  });

  it("hold a group through its bake, and let it go when the run moves on", async () => {
    const first = await atWave("shop");
    await checkWave(ports, first.task);
    await startDeployment(ports, { ...first.task, taskToken: "d" });
    const [deploymentId = ""] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId, "Succeeded", [{ id: "h-1", status: "Succeeded" }]);
    await deploymentChanged(ports, deploymentId);
    const output = ports.executions.callbacks.at(-1)?.output;

    const baking = await nextStep(ports, { runId: first.runId, step: first.task, result: output });
    const during = await ports.locks.get({ application: "shared", deploymentGroup: "prod" });
    await nextStep(ports, { runId: first.runId, step: baking.step, result: {} });
    const after = await ports.locks.get({ application: "shared", deploymentGroup: "prod" });

    expect(baking.step).toMatchObject({ kind: "bake" });
    expect(during).toMatchObject({ holder: first.runId, deploymentId });
    // The lease covers the bake's ten minutes and one lease more.
    const now = ports.clock.now().getTime();
    expect(Date.parse(during?.leaseUntil ?? "")).toBeGreaterThan(now + 10 * 60_000);
    expect(after).toBeUndefined();
  });

  it("keep a run-out lease for its holder while its deployment is still going", async () => {
    const first = await atWave("shop");
    const second = await atWave("books");
    await checkWave(ports, first.task);
    await startDeployment(ports, { ...first.task, taskToken: "d" });
    const group = { application: "shared", deploymentGroup: "prod" };
    const held = await ports.locks.get(group);
    ports.locks.items.set("shared/prod", {
      ...(held as GroupLock),
      leaseUntil: "2000-01-01T00:00:00.000Z",
    });

    const waiting = await checkWave(ports, second.task);

    expect(waiting).toMatchObject({ held: true });
    expect((await ports.locks.get(group))?.holder).toBe(first.runId);
  });

  it("roll back with the group the run holds, and wait (Sluice.Locked) for one another run took", async () => {
    ports.runs.groups.set("shop#shared#prod", { ...bundle, key: "shop/0.9.0.tar.gz" });
    const first = await atWave("shop");
    await checkWave(ports, first.task);
    await startDeployment(ports, { ...first.task, taskToken: "d" });
    const [deploymentId = ""] = ports.deployments.states.keys();
    ports.deployments.end(deploymentId, "Failed", [{ id: "h-1", status: "Failed" }], "failed");
    const back = await rollBack(ports, {
      runId: first.runId,
      step: { kind: "deploy", index: 2 },
      error: { Error: "Sluice.DeploymentFailed", Cause: "deployment failed" },
    });
    const rollback = { ...first.task, taskToken: "r" };

    ports.locks.items.set("shared/prod", {
      application: "shared",
      deploymentGroup: "prod",
      holder: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
      app: "books",
      step: "production/wave-1",
      leaseUntil: "2999-01-01T00:00:00.000Z",
    });
    const refused = startRollback(ports, rollback);
    await expect(refused).rejects.toThrow(LockedError);
    ports.locks.items.delete("shared/prod");
    await startRollback(ports, rollback);

    expect(back.step).toMatchObject({ kind: "rollback", index: 2 });
    await expect(refused).rejects.toThrow(/locked by run 01JZZZZZZZZZZZZZZZZZZZZZZZ \(app books/);
    expect(ports.deployments.created.map((d) => d.revision.key)).toEqual([
      "shop/1.0.0.tar.gz",
      "shop/0.9.0.tar.gz",
    ]);
    expect(
      (await ports.locks.get({ application: "shared", deploymentGroup: "prod" }))?.holder,
    ).toBe(first.runId);
  });
});
