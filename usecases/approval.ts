import { BadRequestError, ConflictError, NotFoundError } from "../domain/errors";
import type { AppRepository, Clock, PipelineEngine, RunRepository } from "../domain/ports";
import type { ApprovalDecision } from "../domain/run";
import { decideTransition, openStep } from "../domain/steps";
import { formatIssues } from "../domain/validation";
import * as z from "../domain/zod";
import type { QueuePorts } from "./run-queue";
import { tokenTask } from "./token-task";

/**
 * The approval step's task: keeps the token its wait resumes on, so a decision can resume it.
 * Run again (a redrive asks again), it keeps the newer token, under the run's current attempt.
 */
export async function awaitApproval(
  ports: QueuePorts & { apps: AppRepository },
  input: unknown,
): Promise<void> {
  const { run, index, token } = await tokenTask(ports, input, "approval task");
  if (run.cursor !== index) {
    throw new ConflictError(`run ${run.id} is not in step ${index} (it is in ${run.cursor})`);
  }
  await ports.runs.putTaskToken(run.id, index, run.attempt, token);
}

export const DecisionRequestSchema = z.strictObject({
  decision: z.enum(["approve", "reject"]),
  comment: z.optional(z.string().check(z.maxLength(1000))),
});

/**
 * An approver's decision on the approval a run waits in. Only the first decision counts; the
 * run goes on (approve) or fails (reject) at once.
 */
export async function decideApproval(
  ports: { runs: RunRepository; executions: PipelineEngine; clock: Clock },
  runId: string,
  by: string,
  body: unknown,
): Promise<ApprovalDecision> {
  const parsed = DecisionRequestSchema.safeParse(body);
  if (!parsed.success) throw new BadRequestError(formatIssues("decision", parsed.error));
  const run = await ports.runs.get(runId);
  if (!run) throw new NotFoundError(`run ${runId} does not exist`);
  const open = openStep(run);
  const token = open ? await ports.runs.taskToken(runId, open.index, open.attempt) : undefined;
  if (open?.kind === "approval" && !token) {
    throw new ConflictError(`the approval of run ${runId} is not ready yet; try again`);
  }
  const decision: ApprovalDecision = {
    decision: parsed.data.decision,
    by,
    at: ports.clock.now().toISOString(),
    ...(parsed.data.comment ? { comment: parsed.data.comment } : {}),
  };
  const { transition } = decideTransition(run, decision);
  await ports.runs.apply(runId, transition, decision.at);
  if (!token) throw new ConflictError(`run ${runId} is not waiting for an approval`);
  if (decision.decision === "approve") {
    await ports.executions.succeedTask(token, decision);
  } else {
    const comment = decision.comment ? `: ${decision.comment}` : "";
    await ports.executions.failTask(token, "Sluice.Rejected", `rejected by ${by}${comment}`);
  }
  return decision;
}
