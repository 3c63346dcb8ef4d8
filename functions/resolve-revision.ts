import middy from "@middy/core";
import { z } from "zod";
import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { RevisionSchema } from "../domain/revision";
import { resolveRevision } from "../usecases/resolve-revision";

const InputSchema = z.object({ runId: z.string(), revision: RevisionSchema });

/** Pipeline task of the source stage: pins the run's revision and records it on the run. */
export const handler = middy(async (input: unknown) => {
  const { runId, revision } = InputSchema.parse(input);
  const a = adapters();
  const pinned = await resolveRevision(a, revision);
  await a.runs.pinRevision(runId, pinned, systemClock.now().toISOString());
  return pinned;
});
