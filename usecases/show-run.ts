import type { AuditEntry } from "../domain/audit";
import type { Deployments, RunRepository } from "../domain/ports";
import type { HostResult } from "../domain/run";
import { type RunDetailView, runDetailView } from "../domain/run-view";

export interface RunEvents {
  /** Every event entry of the run's audit trail. */
  eventsOf(runId: string): Promise<AuditEntry[]>;
}

/**
 * A run as GET /runs/{id} shows it. A deployment still under way has no hosts recorded yet:
 * those are asked of CodeDeploy, so a follower sees host counts move.
 */
export async function showRun(
  ports: { runs: RunRepository; audit: RunEvents; deployments: Pick<Deployments, "hosts"> },
  runId: string,
): Promise<RunDetailView | undefined> {
  const run = await ports.runs.get(runId);
  if (!run) return undefined;
  const deploying = run.steps.filter(
    (s) => s.kind === "deploy" && s.status === "RUNNING" && s.deploymentId && !s.deployment,
  );
  const [events, ...hosts] = await Promise.all([
    ports.audit.eventsOf(runId),
    // A deployment CodeDeploy cannot show yet (just created) has no hosts to count.
    ...deploying.map((s) =>
      ports.deployments.hosts(s.deploymentId as string).catch((): HostResult[] => []),
    ),
  ]);
  const live = new Map<string, HostResult[]>(
    deploying.map((s, i) => [s.deploymentId as string, hosts[i] ?? []]),
  );
  return runDetailView(run, events, live);
}
