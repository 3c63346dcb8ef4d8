import type { PlanStep } from "../domain/plan";
import { revisionOf } from "../domain/revision";
import type { RunView, StepRecord } from "../domain/run";
import { clock, duration } from "../domain/time-text";

/** One line of `sluice follow`'s progress: the run, one stage or wave, or a hint under one. */
export interface ProgressLine {
  /** What the line is about; the same from one poll to the next. */
  key: string;
  text: string;
  /**
   * The text without what only the clock changes (a countdown): without a terminal to redraw,
   * a line is printed again only when this changes.
   */
  state: string;
  /** A step the run has not reached yet. */
  pending: boolean;
}

/** The hosts of a deployment, as the run view has them: its end's, or live ones when the API says. */
type HostsOf = { hosts?: { status: string }[] };

/**
 * The progress of a run at `now`: a line for the run, then one per plan step (stage, wave, bake),
 * in plan order, with the hints a person needs to act on a waiting approval.
 */
export function progressLines(
  run: RunView,
  now: number,
  where: HintPlace = { api: "<api>", command: "sluice" },
): ProgressLine[] {
  const latest = new Map<number, StepRecord>();
  for (const step of run.steps) {
    const seen = latest.get(step.index);
    if (!seen || seen.attempt < step.attempt) latest.set(step.index, step);
  }
  const width = Math.max(...run.plan.steps.map((step) => step.id.length));
  const header = `run ${run.id}  ${run.app}  ${revisionOf(run)}  ${run.status}`;
  const lines: ProgressLine[] = [{ key: "run", text: header, state: header, pending: false }];
  // Lines under a step's line start where its detail does: after its name and status.
  const under = " ".repeat(2 + width + 2 + 9 + 2);
  run.plan.steps.forEach((planned, index) => {
    const record = latest.get(index);
    const name = planned.id.padEnd(width);
    if (!record) {
      const text = `  ${name}  ${"pending".padEnd(9)}`.trimEnd();
      lines.push({ key: planned.id, text, state: text, pending: true });
      return;
    }
    const { steady, ticking } = detailOf(planned, record, now);
    const head = `  ${name}  ${record.status.padEnd(9)}${record.attempt > 1 ? ` attempt ${record.attempt}` : ""}`;
    const state = [head, steady].filter(Boolean).join("  ");
    const text = [state, ticking].filter(Boolean).join(steady ? ", " : "  ");
    lines.push({ key: planned.id, text, state, pending: false });
    if (planned.kind === "approval" && record.status === "RUNNING") {
      for (const [n, hint] of approvalHints(run.id, planned, record, where).entries()) {
        const line = `${under}${hint}`;
        lines.push({ key: `${planned.id}#hint${n}`, text: line, state: line, pending: false });
      }
    }
    if (record.rollback) {
      const line = `${under}rollback ${record.rollback.status}: ${record.rollback.message}`;
      lines.push({ key: `${planned.id}#rollback`, text: line, state: line, pending: false });
    }
  });
  return lines;
}

/** What a step's line says after its status; `ticking` is the part only the clock moves. */
function detailOf(
  planned: PlanStep,
  record: StepRecord,
  now: number,
): { steady: string; ticking?: string } {
  const running = record.status === "RUNNING";
  switch (planned.kind) {
    case "wait":
      return running ? countdown("waiting", record.until, now) : { steady: "" };
    case "bake": {
      if (!running) return { steady: record.message ?? "" };
      const until = record.until ?? plus(record.startedAt, planned.seconds);
      return countdown("baking", until, now);
    }
    case "approval":
      return { steady: approvalState(planned, record) };
    case "deploy": {
      // Held, it has not begun to deploy: its step's message says what holds it, as in `sluice run`.
      if (running && record.hold) return { steady: record.message ?? "" };
      const hosts = hostCount(record.deployment ?? (record as StepRecord & HostsOf));
      const where = running
        ? `deploying to ${planned.deploymentGroup}`
        : `${planned.deploymentGroup}`;
      const failure = record.status === "FAILED" && record.message ? `: ${record.message}` : "";
      return { steady: `${where}${hosts ? `, ${hosts}` : ""}${failure}` };
    }
    default:
      return { steady: record.message ?? "" };
  }
}

function countdown(what: string, until: string | undefined, now: number) {
  if (!until) return { steady: what };
  const left = Math.max(0, Math.ceil((Date.parse(until) - now) / 1000));
  return { steady: what, ticking: `${clock(left)} left` };
}

/** How many of an approval's needed approvals are in, and who decided it once it is decided. */
export function approvalState(
  planned: Extract<PlanStep, { kind: "approval" }>,
  record: StepRecord,
) {
  if (record.approval) {
    const { decision, by, comment } = record.approval;
    return `${decision === "approve" ? "approved" : "rejected"} by ${by}${comment ? `: ${comment}` : ""}`;
  }
  if (record.status !== "RUNNING") return record.message ?? "";
  const approvals = (record.votes ?? []).filter((vote) => vote.decision === "approve").length;
  const asked = planned.approvers.length;
  const mailed = record.request?.links;
  return [
    `waiting for approval: ${approvals} of ${planned.requiredApprovals}`,
    asked > 0
      ? `${asked} approver${asked === 1 ? "" : "s"} asked (${approverNames(planned.approvers)})`
      : "anyone allowed may decide",
    ...(mailed ? [`${mailed} personal link${mailed === 1 ? "" : "s"} sent`] : []),
    ...(record.request?.expiresAt ? [`until ${record.request.expiresAt}`] : []),
  ].join(", ");
}

/**
 * Who may decide, as they sign in: an approval from the CLI is the caller's IAM principal's
 * (its `user/ada`, `role/...` part here), from a link its approver's email. Three at most.
 */
function approverNames(approvers: Extract<PlanStep, { kind: "approval" }>["approvers"]): string {
  const names = approvers.map((approver) =>
    [approver.email, approver.iam?.split(":").at(-1), approver.slack && `Slack ${approver.slack}`]
      .filter(Boolean)
      .join(" / "),
  );
  const more = names.length - 3;
  return [...names.slice(0, 3), ...(more > 0 ? [`${more} more`] : [])].join(", ");
}

/**
 * Where to decide: the links are personal and only mailed (or posted to Slack), so the CLI shows
 * the commands and the form of a link, never a link itself.
 */
export function approvalHints(
  runId: string,
  planned: Extract<PlanStep, { kind: "approval" }>,
  record: StepRecord,
  where: HintPlace,
): string[] {
  const { api, command } = where;
  const user = where.localUser ? localApprover(planned, record) : undefined;
  const as = user ? `SLUICE_LOCAL_USER=${user} ${command}` : command;
  return [
    `decide, as an approver: ${as} approve ${runId}  |  ${as} reject ${runId} --reason <why>`,
    `or the approver's own link, mailed${planned.slack ? " or in Slack" : ""}: ${api}/approvals/<token>`,
  ];
}

/** How the CLI is run, for the commands it suggests. */
export interface HintPlace {
  /** The API's address, as the CLI was pointed at it. */
  api: string;
  /** How the person runs the CLI (invocation.ts). */
  command: string;
  /** The CLI signs as SLUICE_LOCAL_USER (a local stack, no credentials of the person's own). */
  localUser?: boolean;
}

/** The account the local API puts SLUICE_LOCAL_USER's principal in. */
const LOCAL_USER_ARN = /^arn:aws:iam::000000000000:user\/([\w+=,.@-]+)$/;

/**
 * Against a local stack the CLI signs as SLUICE_LOCAL_USER (else the OS user): the hint names
 * a user the approval lists who has not voted yet, so that the command, pasted as printed,
 * counts as an approval more.
 */
function localApprover(
  planned: Extract<PlanStep, { kind: "approval" }>,
  record: StepRecord,
): string | undefined {
  const voted = new Set((record.votes ?? []).map((vote) => vote.approver));
  for (const [i, approver] of planned.approvers.entries()) {
    const user = approver.iam?.match(LOCAL_USER_ARN)?.[1];
    if (user && !voted.has(i)) return user;
  }
  return undefined;
}

/** `3/5 hosts` succeeded, with those that failed, or undefined when no hosts are known yet. */
export function hostCount(deployment: HostsOf | undefined): string | undefined {
  const hosts = deployment?.hosts;
  if (!hosts?.length) return undefined;
  const done = hosts.filter((host) => /^succeeded$/i.test(host.status)).length;
  const failed = hosts.filter((host) => /^failed$/i.test(host.status)).length;
  return `${done}/${hosts.length} hosts${failed ? `, ${failed} failed` : ""}`;
}

/** The line `follow` ends with. */
export function outcomeLine(run: RunView): string {
  const took =
    run.endedAt && (run.startedAt ?? run.createdAt)
      ? ` after ${duration((Date.parse(run.endedAt) - Date.parse(run.startedAt ?? run.createdAt)) / 1000)}`
      : "";
  const why = run.error ? `: ${run.error.error}: ${run.error.cause}` : "";
  return `run ${run.id} ${run.status}${took}${why}`;
}

function plus(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}
