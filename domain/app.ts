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
  })
  .strict();

export const AppSchema = z.object({
  name: AppNameSchema,
  pipeline: PipelineDefinitionSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type App = z.infer<typeof AppSchema>;
