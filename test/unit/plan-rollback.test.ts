import { describe, expect, it } from "vitest";
import { type App, PipelineDefinitionSchema } from "../../domain/app";
import { planRun, stagesPassedBy } from "../../domain/plan";

function app(definition: unknown): App {
  const at = "2026-01-01T00:00:00.000Z";
  return {
    name: "shop",
    pipeline: PipelineDefinitionSchema.parse(definition),
    createdAt: at,
    updatedAt: at,
  };
}

const PIPELINE = app({
  stages: [
    { name: "beta", deploy: { deploymentGroup: "beta", tests: { commands: ["true"] } } },
    { name: "soak", wait: { minutes: 5 } },
    { name: "sign-off", approval: {} },
    {
      name: "production",
      production: {
        waves: [
          { name: "one-box", deploymentGroup: "prod-1", bakeMinutes: 60, alarms: ["shop-5xx"] },
          { deploymentGroup: "prod-2", deploymentConfig: "CodeDeployDefault.HalfAtATime" },
          { deploymentGroup: "prod-3", bakeMinutes: 10 },
        ],
      },
    },
  ],
});
const bundle = { type: "bundle" as const, key: "shop/1.0.0.tar.gz" };
const ids = (steps: { id: string }[]) => steps.map((s) => s.id);

describe("a rollback's plan", () => {
  it("is the production waves alone, in order, as the definition has them, with no bakes", () => {
    const plan = planRun(PIPELINE, bundle, { kind: "rollback", bake: false });
    const release = planRun(PIPELINE, bundle);

    expect(ids(plan.steps)).toEqual([
      "source",
      "build",
      "production/one-box",
      "production/wave-2",
      "production/wave-3",
    ]);
    expect(plan.steps[1]).toEqual({
      id: "build",
      kind: "build",
      skip: "a rollback deploys a released bundle as it is",
    });
    // Each wave deploys exactly as it would in a release.
    for (const step of plan.steps.slice(2)) {
      expect(release.steps).toContainEqual(step);
    }
  });

  it("keeps each wave's bake when asked to", () => {
    const plan = planRun(PIPELINE, bundle, { kind: "rollback", bake: true });

    expect(ids(plan.steps).slice(2)).toEqual([
      "production/one-box",
      "production/one-box/bake",
      "production/wave-2",
      "production/wave-3",
      "production/wave-3/bake",
    ]);
    expect(plan.steps.find((s) => s.id === "production/one-box/bake")).toMatchObject({
      seconds: 3600,
      alarms: ["shop-5xx"],
    });
  });

  it("says which stages and bakes it passes by", () => {
    expect(stagesPassedBy(PIPELINE, { kind: "rollback", bake: false }).map((s) => s.stage)).toEqual(
      ["beta", "soak", "sign-off", "production/one-box/bake", "production/wave-3/bake"],
    );
    expect(stagesPassedBy(PIPELINE, { kind: "rollback", bake: true }).map((s) => s.stage)).toEqual([
      "beta",
      "soak",
      "sign-off",
    ]);
    expect(stagesPassedBy(PIPELINE, { kind: "release" })).toEqual([]);
  });

  it("is refused for an app with no production stage", () => {
    const staging = app({ stages: [{ name: "beta", deploy: { deploymentGroup: "beta" } }] });

    expect(() => planRun(staging, bundle, { kind: "rollback", bake: false })).toThrow(
      "app shop has no production stage to roll back: start a release instead (sluice release)",
    );
  });
});
