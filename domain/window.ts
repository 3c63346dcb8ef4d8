import * as z from "./zod";

/** The longest window: a week, so a weekly cron can open it for good. */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;

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
  /** Checked field by field when the app is registered (windowProblems). */
  cron: z
    .string()
    .check(
      z.refine(
        (expression) => expression.trim().split(/\s+/).length === 5,
        'a window cron has 5 fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"',
      ),
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
