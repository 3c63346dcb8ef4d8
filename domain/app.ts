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

export const PipelineDefinitionSchema = z
  .object({
    description: z.string().max(500).optional(),
    /** Where the build stage clones from: a git URL, or a path or file:// URL locally. */
    repository: z.string().min(1).optional(),
    /** Which pushes start a run (CodePipeline V2 push filters); none means every push. */
    triggers: z.array(TriggerSchema.strict()).default([]),
    executionMode: ExecutionModeSchema.default("queued"),
  })
  .strict();
export type PipelineDefinition = z.infer<typeof PipelineDefinitionSchema>;

export const AppSchema = z.object({
  name: AppNameSchema,
  pipeline: PipelineDefinitionSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type App = z.infer<typeof AppSchema>;
