import {
  type App,
  ApproverSchema,
  BuildArtifactsSchema,
  type BuildConfig,
  BuildConfigSchema,
  type StageDefinition,
  TestsSchema,
} from "./app";
import { ConflictError } from "./errors";
import type { Revision } from "./revision";
import { type DeploymentWindow, DeploymentWindowSchema } from "./window";
import * as z from "./zod";

/**
 * One step of a run's plan. `id` names it in records and events (`source`, `build`, a stage's
 * name); the kind says what the state machine does for it.
 */
export const PlanStepSchema = z.discriminatedUnion("kind", [
  z.object({ id: z.literal("source"), kind: z.literal("source") }),
  z.object({
    id: z.literal("build"),
    kind: z.literal("build"),
    /** Why the run is not built (a bundle is already built; the app has no build). */
    skip: z.optional(z.string()),
    build: z.optional(BuildConfigSchema),
    repository: z.optional(z.string()),
  }),
  z.object({
    id: z.string(),
    kind: z.literal("wait"),
    seconds: z.number().check(z.int(), z.nonnegative()),
  }),
  z.object({
    id: z.string(),
    kind: z.literal("approval"),
    timeoutSeconds: z.number().check(z.int(), z.positive()),
    // Runs recorded before approvers were known decide as anyone the API lets in.
    approvers: z._default(z.array(ApproverSchema), []),
    requiredApprovals: z._default(z.number().check(z.int(), z.positive()), 1),
    forbidSelfApproval: z._default(z.boolean(), false),
    slack: z._default(z.boolean(), true),
    email: z._default(z.boolean(), true),
  }),
  /** A CodeDeploy deployment of the run's revision to one deployment group. */
  z.object({
    id: z.string(),
    kind: z.literal("deploy"),
    application: z.string(),
    deploymentGroup: z.string(),
    deploymentConfig: z.string(),
    alarms: z.array(z.string()),
    timeoutSeconds: z.number().check(z.int(), z.positive()),
    /** When it may start (the wave's window, else its stage's). */
    window: z.optional(DeploymentWindowSchema),
    /** A production wave: a freeze of the app holds it. */
    production: z.optional(z.boolean()),
  }),
  /** A stage's tests, run after its deployment, against it. */
  z.object({
    id: z.string(),
    kind: z.literal("test"),
    deploymentGroup: z.string(),
    tests: TestsSchema,
  }),
  /** A wave's bake: its alarms watched for this long; one going to ALARM ends it. */
  z.object({
    id: z.string(),
    kind: z.literal("bake"),
    deploymentGroup: z.string(),
    alarms: z.array(z.string()),
    seconds: z.number().check(z.int(), z.nonnegative()),
  }),
]);
export type PlanStep = z.infer<typeof PlanStepSchema>;

/** The definition resolved for one run when it is created; the run never reads its app again. */
export const PlanSchema = z.object({ steps: z.array(PlanStepSchema).check(z.minLength(1)) });
export type Plan = z.infer<typeof PlanSchema>;

/**
 * How a run goes through its app's pipeline: a release through all of it; a rollback to a named
 * release through the production waves only, in order, baking only when asked to (ION-Roller's
 * `release <service> <previous version>`, with the waves kept).
 */
export type RunPolicy = { kind: "release" } | { kind: "rollback"; bake: boolean };

export function planRun(
  app: App,
  revision: Revision,
  policy: RunPolicy = { kind: "release" },
): Plan {
  if (policy.kind === "rollback") return planRollback(app, policy.bake);
  const { build, repository, stages } = app.pipeline;
  const buildStep: PlanStep =
    revision.type === "bundle"
      ? { id: "build", kind: "build", skip: "uploaded bundles are deployed as they are" }
      : !build
        ? { id: "build", kind: "build", skip: `app ${app.name} has no build configured` }
        : {
            id: "build",
            kind: "build",
            build: withArtifacts(build, stages),
            ...((revision.repository ?? repository)
              ? { repository: revision.repository ?? repository }
              : {}),
          };
  return {
    steps: [
      { id: "source", kind: "source" },
      buildStep,
      ...stages.flatMap((stage) =>
        planStage(stage, app.pipeline.codedeploy?.application ?? app.name),
      ),
    ],
  };
}

/**
 * A rollback's plan: the bundle as released (never built again), then the production stage's
 * waves as the definition has them, each baked only when `bake` says so. Beta, gamma, tests,
 * waits and approvals are passed by: the release was through them once already.
 */
function planRollback(app: App, bake: boolean): Plan {
  const production = app.pipeline.stages.find((stage) => stage.production);
  if (!production) {
    throw new ConflictError(
      `app ${app.name} has no production stage to roll back: start a release instead (sluice release)`,
    );
  }
  const waves = planStage(production, app.pipeline.codedeploy?.application ?? app.name);
  return {
    steps: [
      { id: "source", kind: "source" },
      { id: "build", kind: "build", skip: "a rollback deploys a released bundle as it is" },
      ...waves.filter((step) => bake || step.kind !== "bake"),
    ],
  };
}

/** The stages (and bakes) of the app's pipeline a plan passes by under a policy, and why. */
export function stagesPassedBy(app: App, policy: RunPolicy): { stage: string; why: string }[] {
  if (policy.kind !== "rollback") return [];
  const application = app.pipeline.codedeploy?.application ?? app.name;
  return app.pipeline.stages.flatMap((stage) => {
    if (!stage.production) {
      return [{ stage: stage.name, why: "a rollback goes through the production waves only" }];
    }
    if (policy.bake) return [];
    return planStage(stage, application)
      .filter((step) => step.kind === "bake")
      .map((step) => ({ stage: step.id, why: "a rollback bakes only when asked to (--bake)" }));
  });
}

/**
 * The build as the run makes it: an app that deploys gets a bundle from every build, by default
 * of the whole clone; one that does not deploy gets one only when it asks for it.
 */
function withArtifacts(build: BuildConfig, stages: readonly StageDefinition[]): BuildConfig {
  if (build.artifacts) return build;
  const deploys = stages.some((stage) => stage.deploy || stage.production);
  return deploys ? { ...build, artifacts: BuildArtifactsSchema.parse({}) } : build;
}

/** A stage's steps: one for a wait or an approval; a deployment and its tests or bake. */
function planStage(stage: StageDefinition, application: string): PlanStep[] {
  const { name, wait, approval, deploy, production } = stage;
  if (wait) {
    return [{ id: name, kind: "wait", seconds: (wait.minutes ?? 0) * 60 + (wait.seconds ?? 0) }];
  }
  if (approval) {
    const { timeoutMinutes, ...gate } = approval;
    return [{ id: name, kind: "approval", timeoutSeconds: timeoutMinutes * 60, ...gate }];
  }
  const deployTo = (
    id: string,
    d: {
      deploymentGroup: string;
      deploymentConfig: string;
      alarms: string[];
      timeoutMinutes: number;
      window?: DeploymentWindow | undefined;
    },
    production?: true,
  ): PlanStep => ({
    id,
    kind: "deploy",
    application,
    deploymentGroup: d.deploymentGroup,
    deploymentConfig: d.deploymentConfig,
    alarms: d.alarms,
    timeoutSeconds: d.timeoutMinutes * 60,
    ...(d.window ? { window: d.window } : {}),
    ...(production ? { production } : {}),
  });
  if (deploy) {
    return [
      deployTo(name, deploy),
      ...(deploy.tests
        ? [
            {
              id: `${name}/tests`,
              kind: "test",
              deploymentGroup: deploy.deploymentGroup,
              tests: deploy.tests,
            } satisfies PlanStep,
          ]
        : []),
    ];
  }
  return (production?.waves ?? []).flatMap((wave, i) => {
    const id = `${name}/${wave.name ?? `wave-${i + 1}`}`;
    const window = wave.window ?? production?.window;
    return [
      deployTo(id, { ...wave, window }, true),
      ...(wave.bakeMinutes > 0
        ? [
            {
              id: `${id}/bake`,
              kind: "bake",
              deploymentGroup: wave.deploymentGroup,
              alarms: wave.alarms,
              seconds: wave.bakeMinutes * 60,
            } satisfies PlanStep,
          ]
        : []),
    ];
  });
}
