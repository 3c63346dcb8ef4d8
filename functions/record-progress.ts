import middy from "@middy/core";
import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { recordProgress } from "../usecases/record-progress";

/**
 * Pipeline task: records a run or stage transition and emits its lifecycle event.
 * Input: `{ runId, progress: { type, stage?, error?, ... } }`.
 */
export const handler = middy(async (input: unknown) =>
  recordProgress({ ...adapters(), clock: systemClock }, input),
);
