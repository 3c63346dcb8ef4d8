import { Cron } from "croner";
import * as z from "./zod";

/** The longest window: a week, so a weekly cron can open it for good. */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;

function cronProblem(expression: string): string | undefined {
  // croner reads six fields as seconds first, where AWS's six are minutes first and a year
  // last: five fields only, so an expression never means something other than it seems to.
  if (expression.trim().split(/\s+/).length !== 5) {
    return 'a window cron has 5 fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"';
  }
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, "");
  }
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A deployment window (CodePipeline's DeploymentWindow, in a form that needs no seconds field):
 * the window opens at each time `cron` names, in `timeZone`, and stays open `durationMinutes`.
 * `{ cron: "0 9 * * MON-FRI", timeZone: "Europe/Berlin", durationMinutes: 480 }` is 9:00 to
 * 17:00 Berlin time on weekdays. A deployment starts only while its window is open; one under
 * way when it closes finishes.
 */
export const DeploymentWindowSchema = z.strictObject({
  cron: z.string().check(
    z.superRefine((expression, ctx) => {
      const problem = cronProblem(expression);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: expression });
    }),
  ),
  timeZone: z._default(
    z
      .string()
      .check(
        z.refine(isTimeZone, "an IANA time zone such as Europe/Berlin, America/New_York or UTC"),
      ),
    "UTC",
  ),
  durationMinutes: z
    .number()
    .check(
      z.int(),
      z.gte(1),
      z.lte(MAX_WINDOW_MINUTES, `a window lasts at most ${MAX_WINDOW_MINUTES} minutes (a week)`),
    ),
});
export type DeploymentWindow = z.infer<typeof DeploymentWindowSchema>;

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
