import type { AuditEntry } from "./audit";
import { holdMessage } from "./holds";
import {
  LIFECYCLE_EVENTS,
  type LifecycleDetailType,
  type LifecycleEvent,
} from "./lifecycle-events";
import { revisionOf } from "./revision";
import type { RunError, RunStatus, RunView } from "./run";
import { duration } from "./time-text";

// What happened to a run, in a person's words: one line an audit trail entry, as `sluice events`
// prints it, the dashboard shows it and the audit API gives it (an entry's `summary`). The
// trail's events are said in the words of the run's own record where the two meet.

export const stepName = (step: string, attempt = 1) =>
  `${step}${attempt > 1 ? ` (attempt ${attempt})` : ""}`;
export const created = (run: Pick<RunView, "kind" | "revision">) =>
  `run created (${run.kind ?? "release"} of ${revisionOf(run)})`;
export const stepEnded = (name: string, status: string, message: string | undefined) =>
  `${name} ${status}${message ? `: ${message}` : ""}`;
export const voted = (
  name: string,
  vote: { decision: string; via?: string | undefined; comment?: string | undefined },
) =>
  `${name}: ${vote.decision}${vote.via ? ` via ${vote.via}` : ""}${vote.comment ? `: ${vote.comment}` : ""}`;
export const refused = (name: string, refusal: { decision: string; reason: string }) =>
  `${name}: ${refusal.decision} refused: ${refusal.reason}`;
export const retried = (attempt: number, reason: string | undefined) =>
  `retried (attempt ${attempt})${reason ? `: ${reason}` : ""}`;
export const stopAsked = (reason: string | undefined) => `stop asked${reason ? `: ${reason}` : ""}`;
export const runEnded = (status: RunStatus, error: RunError | undefined) =>
  `run ${status}${error ? `: ${error.error}: ${error.cause}` : ""}`;

/** What an entry of the audit trail says happened, as one line. */
export function auditLine(entry: AuditEntry): string {
  const event = entry.kind === "event" ? lifecycleEvent(entry) : undefined;
  return event ? eventLine(event) : actionLine(entry);
}

/** The entry's event, when its detail is one Sluice knows the shape of. */
function lifecycleEvent(entry: AuditEntry): LifecycleEvent | undefined {
  if (!Object.hasOwn(LIFECYCLE_EVENTS, entry.type)) return undefined;
  const parsed = LIFECYCLE_EVENTS[entry.type as LifecycleDetailType].safeParse(entry.detail);
  return parsed.success
    ? ({ detailType: entry.type, detail: parsed.data } as LifecycleEvent)
    : undefined;
}

/** What each operator action the API records is called, as the command that asks for it says. */
const ACTION_NAMES: Record<string, string> = {
  run: "run asked",
  release: "release asked",
  rollback: "rollback asked",
  "app-put": "pipeline definition put",
  "webhook-secret": "webhook secret rotated",
  freeze: "freeze asked",
  unfreeze: "unfreeze asked",
};

/** An operator's action, or an event of a kind (or shape) Sluice does not know: type and why. */
function actionLine(entry: AuditEntry): string {
  if (entry.kind === "action" && entry.type === "stop") return stopAsked(entry.reason);
  const origin = entry.type === "webhook-secret" ? entry.detail?.origin : undefined;
  const name =
    entry.kind === "action" && Object.hasOwn(ACTION_NAMES, entry.type)
      ? `${ACTION_NAMES[entry.type]}${typeof origin === "string" ? ` (${origin})` : ""}`
      : entry.type;
  return `${name}${entry.reason ? `: ${entry.reason}` : ""}`;
}

function eventLine({ detailType, detail }: LifecycleEvent): string {
  switch (detailType) {
    case "Run Queued":
      return created(detail);
    case "Run Started":
      return "run started";
    case "Run Succeeded":
    case "Run Failed":
    case "Run Superseded":
    case "Run Stopped":
      return runEnded(detail.status, detail.error);
    case "Run Rolled Back": {
      const groups = (detail.rollbacks ?? []).map((r) => `${r.stage}: ${r.message}`);
      return `${runEnded(detail.status, detail.error)}${groups.length ? `; ${groups.join("; ")}` : ""}`;
    }
    case "Run Redriven":
      return retried(detail.attempt ?? 1, detail.action.reason);
    case "Stage Started":
      return `${stepName(detail.stage, detail.attempt)} started`;
    case "Stage Succeeded":
    case "Stage Failed":
    case "Stage Skipped":
      return stepEnded(stepName(detail.stage, detail.attempt), detail.stageStatus, detail.message);
    case "Approval Requested": {
      const links = detail.links
        ? `, ${detail.links} personal link${detail.links === 1 ? "" : "s"} sent`
        : "";
      const until = detail.expiresAt ? `, until ${detail.expiresAt}` : "";
      return `${stepName(detail.stage, detail.attempt)}: approval requested, ${detail.requiredApprovals ?? 1} needed${links}${until}`;
    }
    case "Approval Voted":
    case "Approval Decided": {
      const vote = detail.vote ?? detail.decision;
      return vote ? voted(stepName(detail.stage, detail.attempt), vote) : detailType;
    }
    case "Approval Refused":
      return detail.refusal
        ? refused(stepName(detail.stage, detail.attempt), detail.refusal)
        : detailType;
    case "Approval Timed Out":
      return `${stepName(detail.stage, detail.attempt)}: approval timed out`;
    case "Rollback Started": {
      const what = detail.requested
        ? `rollback to version ${detail.requested.version}`
        : "rollback";
      const why = detail.error ? `: ${detail.error.error}: ${detail.error.cause}` : "";
      return `${what} started (${detail.stages.join(", ")})${why}`;
    }
    case "Wave Started":
      return `${detail.wave}: wave ${detail.waveNumber} of ${detail.waves} deploying to ${detail.deploymentGroup} (${detail.deploymentConfig})`;
    case "Wave Baking": {
      const length = detail.bakeSeconds === undefined ? "" : ` ${duration(detail.bakeSeconds)}`;
      return `${detail.wave}: baking${length}${detail.until ? `, until ${detail.until}` : ""}`;
    }
    case "Wave Succeeded":
      return `${detail.wave}: wave ${detail.waveNumber} of ${detail.waves} SUCCEEDED`;
    case "Wave Held":
      return `${stepName(detail.stage, detail.attempt)} ${holdMessage(detail.blockers)}`;
    case "Wave Overridden": {
      const what = detail.override.what === "bake" ? "cut short" : "let go";
      return `${stepName(detail.stage, detail.attempt)} ${what}: ${detail.override.reason}`;
    }
    // As `sluice freeze` and `sluice unfreeze` say it.
    case "App Frozen":
      return `app ${detail.app} frozen until ${detail.until} by ${detail.by}: ${detail.reason}`;
    case "App Unfrozen": {
      const by = detail.liftedBy ? ` by ${detail.liftedBy}` : "";
      const why = detail.liftReason ? `: ${detail.liftReason}` : "";
      return `app ${detail.app} unfrozen${by} (it was frozen until ${detail.until})${why}`;
    }
    case "Bundle Rejected":
      return `bundle ${detail.key} rejected (${detail.code}): ${detail.reason}`;
  }
}
