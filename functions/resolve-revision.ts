import { releaseBucket } from "../adapters/release-bucket";
import { BadRequestError } from "../domain/errors";
import { RevisionSchema } from "../domain/revision";
import { formatIssues } from "../domain/validation";
import * as z from "../domain/zod";
import { resolveRevision } from "../usecases/resolve-revision";
import { taskHandler } from "./task";

const InputSchema = z.object({ revision: RevisionSchema });

/** Pipeline task of the source stage: the run's revision, pinned. */
export const handler = taskHandler(async (input: unknown) => {
  const parsed = InputSchema.safeParse(input);
  if (!parsed.success) throw new BadRequestError(formatIssues("source task", parsed.error));
  return resolveRevision({ releases: releaseBucket() }, parsed.data.revision);
});
