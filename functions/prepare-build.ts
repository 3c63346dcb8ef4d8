import middy from "@middy/core";
import { z } from "zod";
import { adapters } from "../adapters/clients";
import { RevisionSchema } from "../domain/revision";
import { prepareBuild } from "../usecases/prepare-build";

const InputSchema = z.object({ runId: z.string(), app: z.string(), revision: RevisionSchema });

/** Pipeline task before the build stage: skip it, or say what CodeBuild should run. */
export const handler = middy(async (input: unknown) => {
  const a = adapters();
  return prepareBuild(
    { apps: a.apps, buildProject: a.config.buildProject },
    InputSchema.parse(input),
  );
});
