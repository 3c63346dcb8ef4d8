import { ConflictError, LockedError, NotFoundError } from "../domain/errors";
import { runErrorOf } from "../domain/execution-errors";
import { beginRollback, continueRollback, type RollbackTask } from "../domain/rollback";
import { RunIdSchema } from "../domain/run";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { type DeployPorts, deploymentChanged } from "./deploy";
import { groupOf, releaseRunLocks, takeGroup } from "./group-locks";
import { tokenTask } from "./token-task";

/** What the state machine hands RollBack: the step that failed or was rolled back, and why. */
const RollBackInputSchema = z.object({
  runId: RunIdSchema,
  step: z.looseObject({ kind: z.string(), index: z.optional(z.number()) }),
  error: z.object({ Error: z.string(), Cause: z.optional(z.string()) }),
  result: z.optional(z.unknown()),
});

/**
 * The pipeline's walk back: entered from a step that failed for good, it records the failure
 * and starts the rollback; back from a rollback deployment, it records it and takes the next
 * group, newest first, until the run has ROLLED_BACK. A retried call answers the same. The run
 * holds at most the group it rolls back now, so two rollbacks never wait on each other.
 */
export async function rollBack(
  ports: DeployPorts,
  input: unknown,
): Promise<{ runId: string; step: RollbackTask; error: unknown; result: null }> {
  const { runId, step, error, result } = parseRequest(RollBackInputSchema, "rollback", input);
  for (let tries = 0; ; tries++) {
    const run = await ports.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`);
    const now = ports.clock.now().toISOString();
    const { transition, task } =
      step.kind === "rollback" && step.index !== undefined
        ? continueRollback(run, step.index, result, now)
        : beginRollback(run, runErrorOf(error.Error, error.Cause), now);
    try {
      if (transition) await ports.runs.apply(runId, transition, now);
      const next = task.kind === "rollback" ? groupOf(run.plan, task.index) : undefined;
      await releaseRunLocks(ports, run, next);
      return { runId, step: task, error, result: null };
    } catch (err) {
      if (!(err instanceof ConflictError) || tries > 0) throw err;
    }
  }
}

/**
 * A rollback deployment's task (`.waitForTaskToken`): deploys the revision that last succeeded
 * in the step's group back to it, once; its state-change event resumes it as any deployment's.
 * It takes the group's lock first (already its own when the run failed deploying there); held
 * by another run, it fails as Sluice.Locked, which the state machine retries.
 */
export async function startRollback(ports: DeployPorts, input: unknown): Promise<void> {
  const { run, index, token: taskToken } = await tokenTask(ports, input, "rollback task");
  const runId = run.id;
  const step = run.plan.steps[index];
  const record = run.steps.find((s) => s.index === index && s.attempt === run.attempt);
  const rollback = run.rollback;
  if (
    !rollback ||
    rollback.targets[rollback.position] !== index ||
    step?.kind !== "deploy" ||
    !record?.previousRevision
  ) {
    throw new ConflictError(`run ${runId} is not rolling back step ${index}`);
  }
  let deploymentId = record.rollback?.deploymentId;
  if (!deploymentId) {
    const locked = await takeGroup(ports, run, index);
    if (locked) throw new LockedError(`the rollback of ${step.id} waits: ${locked.message}`);
    const revision = record.previousRevision;
    deploymentId = await ports.deployments.create({
      application: step.application,
      deploymentGroup: step.deploymentGroup,
      deploymentConfig: step.deploymentConfig,
      description: `Sluice run ${run.id} (${run.app}) rolls ${step.id} back`,
      revision: {
        bucket: revision.bucket ?? "",
        key: revision.key,
        ...(revision.versionId ? { versionId: revision.versionId } : {}),
        ...(revision.etag ? { etag: revision.etag } : {}),
      },
    });
    await ports.runs.apply(
      runId,
      {
        expect: { status: ["RUNNING"], attempt: run.attempt, rollbackPosition: rollback.position },
        set: {},
        steps: [
          {
            ...record,
            rollback: {
              status: "RUNNING",
              deploymentId,
              message: `rolling back by deployment ${deploymentId}`,
            },
          },
        ],
        events: [],
      },
      ports.clock.now().toISOString(),
    );
  }
  await ports.waits.put({ deploymentId, runId, index, attempt: run.attempt, token: taskToken });
  await deploymentChanged(ports, deploymentId);
}
