import type { PlanStep } from "../domain/plan";
import type { RunView } from "../domain/run";
import type { GroupNow, RunPreview } from "../usecases/release-run";
import type { ApiClient } from "./api-client";
import { CliError } from "./errors";
import { formatTable } from "./format";
import { confirm, type Input } from "./terminal";

export interface ReleaseCommand {
  app: string;
  version: string;
  kind: "release" | "rollback";
  /** A rollback's bakes: skipped unless asked for. */
  bake?: boolean;
  reason?: string;
  /** Go ahead without asking. */
  yes?: boolean;
  /** List the plan and start nothing. */
  dryRun?: boolean;
}

/**
 * `sluice release` and `sluice rollback --to`: asks the API for the plan (a dry run, nothing
 * recorded), lists it, asks for confirmation on a terminal (unless --yes), then starts the run.
 */
export async function startRelease(
  api: ApiClient,
  command: ReleaseCommand,
  input: Input | undefined,
  stdout: (text: string) => void,
): Promise<RunView | undefined> {
  const what = command.kind === "rollback" ? "the rollback" : "the release";
  // Refused before asking anything: a script must say --yes (or only look, with --dry-run).
  if (!command.yes && !command.dryRun && !(input?.stdin.isTTY && input.stdout.isTTY)) {
    throw new CliError(
      `no terminal to confirm ${what} on: pass --yes to start it without asking, or --dry-run to list its plan`,
    );
  }
  const path = `/apps/${encodeURIComponent(command.app)}/releases/${encodeURIComponent(command.version)}/${command.kind === "rollback" ? "rollbacks" : "runs"}`;
  const body = {
    ...(command.kind === "rollback" ? { bake: command.bake ?? false } : {}),
    ...(command.reason ? { reason: command.reason } : {}),
  };
  const preview: RunPreview = await api.post(`${path}?dryRun=true`, body);
  stdout(formatPreview(preview));
  if (command.dryRun) return undefined;
  if (!command.yes && !(await confirm(input, `Start ${what}?`, what))) {
    throw new CliError(`${what} was not confirmed: nothing was started`);
  }
  const run: RunView = await api.post(path, body);
  stdout(
    `run ${run.id} ${run.status} (${run.kind ?? "release"} of ${run.app} to ${command.version})\n`,
  );
  return run;
}

/** The plan as a person checks it before saying yes: each step, and what each group runs now. */
export function formatPreview(preview: RunPreview): string {
  const title =
    preview.kind === "rollback"
      ? `rollback of ${preview.app} to ${preview.version}, through the production waves only`
      : `release of ${preview.app} ${preview.version}, through the whole pipeline`;
  const pinned = [preview.revision.key, preview.revision.sha256?.slice(0, 12)].filter(Boolean);
  const rows = preview.plan.steps.map((step, i) => [
    `${i + 1}.`,
    step.id,
    describeStep(step, preview.current[step.id], preview.version),
  ]);
  const skipped = preview.skipped.map((s) => `  passed by: ${s.stage} (${s.why})\n`);
  return [
    `${title}\n`,
    `  bundle: ${pinned.join(" sha256 ")}\n`,
    ...formatTable(rows)
      .split("\n")
      .filter(Boolean)
      .map((line) => `  ${line}\n`),
    ...skipped,
  ].join("");
}

function describeStep(step: PlanStep, now: GroupNow | null | undefined, version: string): string {
  switch (step.kind) {
    case "source":
      return "pin the bundle as released";
    case "build":
      return step.skip ? `skipped: ${step.skip}` : "build";
    case "deploy": {
      const alarms = step.alarms.length ? `, alarms ${step.alarms.join(", ")}` : "";
      const from = now ? (now.version ?? now.revision.key) : "nothing recorded";
      return `deploy to ${step.deploymentGroup} (${step.deploymentConfig}${alarms}): ${from} → ${version}`;
    }
    case "bake":
      return `bake ${duration(step.seconds)}${step.alarms.length ? `, watching ${step.alarms.join(", ")}` : ""}`;
    case "test":
      return `tests against ${step.deploymentGroup}`;
    case "approval":
      return `approval (times out after ${duration(step.timeoutSeconds)})`;
    case "wait":
      return `wait ${duration(step.seconds)}`;
  }
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
