import { z } from "zod";
import { TriggerSchema } from "./triggers";

export const AppNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,62}$/,
    "app names are 2-63 characters of lower-case letters, digits and '-', starting with a letter or digit",
  );

/**
 * What happens when a change arrives while an earlier run of the same app is still going:
 * `queued` waits its turn, `superseded` replaces any run still waiting, `parallel` starts at once.
 */
export const ExecutionModeSchema = z.enum(["queued", "superseded", "parallel"]);
export type ExecutionMode = z.infer<typeof ExecutionModeSchema>;

/** The build stage: commands run in a fresh clone of the repository at the run's commit. */
export const BuildConfigSchema = z
  .object({
    commands: z.array(z.string().min(1)).min(1, "a build needs at least one command"),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    timeoutMinutes: z.number().int().min(1).max(480).default(60),
  })
  .strict();
export type BuildConfig = z.infer<typeof BuildConfigSchema>;

/** Names the run's own steps take; a stage of the definition cannot take them. */
const RESERVED_STAGE_NAMES = new Set(["source", "build"]);

const StageNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    "stage names are 1-32 lower-case letters, digits and '-', starting with a letter",
  )
  .refine((name) => !RESERVED_STAGE_NAMES.has(name), "source and build are the run's own steps");

/** A wait (Spinnaker's Wait stage): the run pauses this long, e.g. to let a change soak. */
export const WaitStageSchema = z
  .object({
    name: StageNameSchema,
    wait: z
      .object({
        minutes: z.number().int().min(0).max(525_600).optional(),
        seconds: z.number().int().min(0).max(59).optional(),
      })
      .strict()
      .refine((w) => w.minutes !== undefined || w.seconds !== undefined, "give minutes or seconds"),
  })
  .strict();

/**
 * A manual approval: the run waits for someone to approve or reject it. Undecided after
 * timeoutMinutes (CodePipeline's default is 7 days), the run fails.
 */
export const ApprovalStageSchema = z
  .object({
    name: StageNameSchema,
    approval: z
      .object({
        timeoutMinutes: z
          .number()
          .int()
          .min(5)
          .max(60 * 24 * 60)
          .default(60 * 24 * 7),
      })
      .strict(),
  })
  .strict();

export const StageDefinitionSchema = z.union([WaitStageSchema, ApprovalStageSchema]);
export type StageDefinition = z.infer<typeof StageDefinitionSchema>;

export const PipelineDefinitionSchema = z
  .object({
    description: z.string().max(500).optional(),
    /** Where the build stage clones from: a git URL, or a path or file:// URL locally. */
    repository: z.string().min(1).optional(),
    /** Which pushes start a run (CodePipeline V2 push filters); none means every push. */
    triggers: z.array(TriggerSchema.strict()).default([]),
    executionMode: ExecutionModeSchema.default("queued"),
    /** Without a build, git runs go straight from source to the stages after build. */
    build: BuildConfigSchema.optional(),
    /** What a run goes through after its source and build, in this order. */
    stages: z
      .array(StageDefinitionSchema)
      .max(50)
      .default([])
      .superRefine((stages, ctx) => {
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
  })
  .strict();

export const AppSchema = z.object({
  name: AppNameSchema,
  pipeline: PipelineDefinitionSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type App = z.infer<typeof AppSchema>;
