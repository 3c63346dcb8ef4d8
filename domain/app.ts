import { TriggerSchema } from "./triggers";
import * as z from "./zod";

export const AppNameSchema = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{1,62}$/,
      "app names are 2-63 characters of lower-case letters, digits and '-', starting with a letter or digit",
    ),
  );

/**
 * What happens when a change arrives while an earlier run of the same app is still going:
 * `queued` waits its turn, `superseded` replaces any run still waiting, `parallel` starts at once.
 */
export const ExecutionModeSchema = z.enum(["queued", "superseded", "parallel"]);
export type ExecutionMode = z.infer<typeof ExecutionModeSchema>;

/** The build stage: commands run in a fresh clone of the repository at the run's commit. */
export const BuildConfigSchema = z.strictObject({
  commands: z
    .array(z.string().check(z.minLength(1)))
    .check(z.minLength(1, "a build needs at least one command")),
  env: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), z.string()), {}),
  timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(480)), 60),
});
export type BuildConfig = z.infer<typeof BuildConfigSchema>;

/** Names the run's own steps take; a stage of the definition cannot take them. */
const RESERVED_STAGE_NAMES = new Set(["source", "build"]);

const StageNameSchema = z.string().check(
  z.regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    "stage names are 1-32 lower-case letters, digits and '-', starting with a letter",
  ),
  z.refine((name) => !RESERVED_STAGE_NAMES.has(name), "source and build are the run's own steps"),
);

/** A wait (Spinnaker's Wait stage): the run pauses this long, e.g. to let a change soak. */
export const WaitStageSchema = z.strictObject({
  name: StageNameSchema,
  wait: z
    .strictObject({
      minutes: z.optional(z.number().check(z.int(), z.gte(0), z.lte(525_600))),
      seconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(59))),
    })
    .check(
      z.refine(
        (w) => w.minutes !== undefined || w.seconds !== undefined,
        "give minutes or seconds",
      ),
    ),
});

/**
 * A manual approval: the run waits for someone to approve or reject it. Undecided after
 * timeoutMinutes (CodePipeline's default is 7 days), the run fails.
 */
export const ApprovalStageSchema = z.strictObject({
  name: StageNameSchema,
  approval: z.strictObject({
    timeoutMinutes: z._default(
      z.number().check(z.int(), z.gte(5), z.lte(60 * 24 * 60)),
      60 * 24 * 7,
    ),
  }),
});

export const StageDefinitionSchema = z.union([WaitStageSchema, ApprovalStageSchema]);
export type StageDefinition = z.infer<typeof StageDefinitionSchema>;

export const PipelineDefinitionSchema = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(500))),
  /** Where the build stage clones from: a git URL, or a path or file:// URL locally. */
  repository: z.optional(z.string().check(z.minLength(1))),
  /** Which pushes start a run (CodePipeline V2 push filters); none means every push. */
  triggers: z._default(z.array(z.strictObject(TriggerSchema.shape)), []),
  executionMode: z._default(ExecutionModeSchema, "queued"),
  /** Without a build, git runs go straight from source to the stages after build. */
  build: z.optional(BuildConfigSchema),
  /** What a run goes through after its source and build, in this order. */
  stages: z._default(z.array(StageDefinitionSchema).check(z.maxLength(50)), []).check(
    z.superRefine((stages, ctx) => {
      const seen = new Set<string>();
      stages.forEach((stage, i) => {
        if (seen.has(stage.name)) {
          ctx.addIssue({
            code: "custom",
            path: [i, "name"],
            message: `stage name ${stage.name} is used twice`,
          });
        }
        seen.add(stage.name);
      });
    }),
  ),
});

export const AppSchema = z.object({
  name: AppNameSchema,
  pipeline: PipelineDefinitionSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type App = z.infer<typeof AppSchema>;
