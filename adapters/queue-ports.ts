import { systemClock } from "../domain/ports";
import type { QueuePorts } from "../usecases/run-queue";
import { pipelineExecutions } from "./pipeline-executions";
import { runQueue } from "./run-queue";
import { runStore } from "./run-store";

/** What every use case that starts, ends or moves a run works with: DynamoDB and Step Functions. */
export function queuePorts(): QueuePorts {
  return {
    runs: runStore(),
    queue: runQueue(),
    executions: pipelineExecutions(),
    clock: systemClock,
  };
}
