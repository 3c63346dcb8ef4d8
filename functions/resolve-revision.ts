import middy from "@middy/core";
import { z } from "zod";
import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { RevisionSchema } from "../domain/revision";
import { RunIdSchema } from "../domain/run";
import { pinRunRevision } from "../usecases/resolve-revision";

const InputSchema = z.object({ runId: RunIdSchema, revision: RevisionSchema });

/** Pipeline task of the source stage: pins the run's revision and records it on the run. */
export const handler = middy(async (input: unknown) => {
  const { runId, revision } = InputSchema.parse(input);
  return pinRunRevision({ ...adapters(), clock: systemClock }, runId, revision);
});
