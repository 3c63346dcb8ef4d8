import { type App, BuildConfigSchema } from "./app";
import type { Revision } from "./revision";
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
  }),
]);
export type PlanStep = z.infer<typeof PlanStepSchema>;

/** The definition resolved for one run when it is created; the run never reads its app again. */
export const PlanSchema = z.object({ steps: z.array(PlanStepSchema).check(z.minLength(1)) });
export type Plan = z.infer<typeof PlanSchema>;

export function planRun(app: App, revision: Revision): Plan {
  const { build, repository, stages } = app.pipeline;
  const buildStep: PlanStep =
    revision.type === "bundle"
      ? { id: "build", kind: "build", skip: "uploaded bundles are deployed as they are" }
      : !build
        ? { id: "build", kind: "build", skip: `app ${app.name} has no build configured` }
        : {
            id: "build",
            kind: "build",
            build,
            ...((revision.repository ?? repository)
              ? { repository: revision.repository ?? repository }
              : {}),
          };
  return {
    steps: [
      { id: "source", kind: "source" },
      buildStep,
      ...stages.map((stage): PlanStep => {
        if ("wait" in stage) {
          return {
            id: stage.name,
            kind: "wait",
            seconds: (stage.wait.minutes ?? 0) * 60 + (stage.wait.seconds ?? 0),
          };
        }
        return {
          id: stage.name,
          kind: "approval",
          timeoutSeconds: stage.approval.timeoutMinutes * 60,
        };
      }),
    ],
  };
}
