import { Cron } from "croner";
import type { DeploymentWindow } from "./window";

/**
 * What is wrong with a window's cron expression, in croner's words (the one module that loads
 * croner, so that handlers which only read definitions stay small).
 */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, "");
  }
}

/**
 * Every window cron of a definition as it was sent (before or after its other checks) that
 * croner cannot read, by its path: registration lists them with the definition's other problems.
 */
export function windowProblems(raw: unknown): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const check = (window: unknown, path: (string | number)[]) => {
    const cron = (window as { cron?: unknown } | undefined)?.cron;
    if (typeof cron !== "string" || cron.trim().split(/\s+/).length !== 5) return;
    const problem = cronProblem(cron);
    if (problem) problems.push({ path: [...path, "window", "cron"], message: problem });
  };
  const stages = (raw as { stages?: unknown } | undefined)?.stages;
  if (!Array.isArray(stages)) return problems;
  stages.forEach((stage, i) => {
    const { deploy, production } = (stage ?? {}) as Record<
      string,
      { window?: unknown; waves?: unknown } | undefined
    >;
    check(deploy?.window, ["stages", i, "deploy"]);
    check(production?.window, ["stages", i, "production"]);
    if (Array.isArray(production?.waves)) {
      production.waves.forEach((wave: { window?: unknown } | undefined, w: number) => {
        check(wave?.window, ["stages", i, "production", "waves", w]);
      });
    }
  });
  return problems;
}

/** Whether a window is open at `now`: until when it stays open, or when it opens next. */
export type WindowState = { open: true; closes: Date } | { open: false; opens: Date | undefined };

export function windowState(window: DeploymentWindow, now: Date): WindowState {
  const cron = new Cron(window.cron, { timezone: window.timeZone, paused: true });
  const duration = window.durationMinutes * 60_000;
  // The first opening after (now - duration) is the one whose window could cover now.
  const opening = cron.nextRun(new Date(now.getTime() - duration));
  if (opening && opening.getTime() <= now.getTime()) {
    return { open: true, closes: new Date(opening.getTime() + duration) };
  }
  return { open: false, opens: opening ?? undefined };
}
