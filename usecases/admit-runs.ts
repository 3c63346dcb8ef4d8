import { PipelineStartError } from "../domain/errors";
import type { Run } from "../domain/run";
import { admitRun, causeOf, failToStart, type QueuePorts } from "./run-queue";

/** A run as the table's stream brought it when it was recorded. */
export interface RecordedRun {
  /** The stream record's sequence number, which a partial batch failure names. */
  sequenceNumber: string;
  run: Run;
  /** When the stream record was written, epoch milliseconds. */
  recordedAt: number;
}

/** The records to deliver again, from the first that failed, and why it failed. */
export interface AdmissionResult {
  retry: string[];
  failure?: unknown;
}

/**
 * Admits runs in the order they were recorded. A failed admission, and those after it, are
 * answered as sequence numbers to deliver again, so the stream retries them in order: a Step
 * Functions hiccup delays a run rather than failing it. A run whose pipeline still cannot start
 * once its record is `retryForMs` old is ended FAILED (PipelineStartFailed) with its event.
 */
export async function admitRecordedRuns(
  ports: QueuePorts,
  records: readonly RecordedRun[],
  retryForMs: number,
): Promise<AdmissionResult> {
  const fromHere = (i: number, failure: unknown) => ({
    retry: records.slice(i).map((r) => r.sequenceNumber),
    failure,
  });
  for (const [i, record] of records.entries()) {
    try {
      await admitRun(ports, record.run);
    } catch (err) {
      const age = ports.clock.now().getTime() - record.recordedAt;
      if (!(err instanceof PipelineStartError) || age < retryForMs) return fromHere(i, err);
      try {
        await failToStart(ports, err.runId, causeOf(err));
      } catch (failed) {
        return fromHere(i, failed);
      }
      // Another run's start failed on this one's way in: this one is still to be let in.
      if (err.runId !== record.run.id) return fromHere(i, err);
    }
  }
  return { retry: [] };
}
