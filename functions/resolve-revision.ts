import { releaseBucket } from "../adapters/release-bucket";
import { RevisionSchema } from "../domain/revision";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { resolveRevision } from "../usecases/resolve-revision";
import { taskHandler } from "./task";

const InputSchema = z.object({ revision: RevisionSchema });

/** Pipeline task of the source stage: the run's revision, pinned. */
export const handler = taskHandler(async (input: unknown) => {
  const task = parseRequest(InputSchema, "source task", input);
  return resolveRevision({ releases: releaseBucket() }, task.revision);
});
