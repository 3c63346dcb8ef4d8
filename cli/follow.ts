import { setTimeout as sleep } from "node:timers/promises";
import { styleText } from "node:util";
import type { PlanStep } from "../domain/plan";
import { isTerminal, type RunView } from "../domain/run";
import { type ApiClient, ApiRefusal } from "./api-client";
import { outcomeLine, type ProgressLine, progressLines } from "./progress";

/** Where `follow` writes: a terminal it redraws in place, or a pipe or file it appends to. */
export interface FollowOutput {
  write(text: string): void;
  isTTY: boolean;
  /** The terminal's width: a redraw counts the rows a long line wrapped onto. */
  columns?: number;
  color: boolean;
}

export interface FollowOptions {
  intervalMs: number;
  /** `push`: stop once the run waits for an approval, saying how to decide and to follow on. */
  untilApproval?: boolean;
  /** Ctrl-C: stop following (the run goes on). */
  signal?: AbortSignal;
  /** How the person runs the CLI, in the commands it suggests (invocation.ts). */
  command?: string;
}

export type FollowEnd =
  | { kind: "ended"; run: RunView }
  | { kind: "waiting"; run: RunView; step: string }
  | { kind: "interrupted" };

/** The exit code of `follow` and `push`: 0 for a success or a wait for approval, else 1 (130: ^C). */
export function exitCodeOf(end: FollowEnd): number {
  if (end.kind === "interrupted") return 130;
  if (end.kind === "waiting") return 0;
  return end.run.status === "SUCCEEDED" ? 0 : 1;
}

/**
 * Polls in a row that may fail (a blip of the network, a 5xx) before `follow` gives up; a 4xx
 * (no such run, not allowed) ends it at once.
 */
const TOLERATED_FAILURES = 5;

/**
 * Follows a run by polling GET /runs/{id}: a line per stage and wave, redrawn in place on a
 * terminal, or printed again when it changes otherwise; ends with the run's outcome line.
 */
export async function follow(
  api: ApiClient,
  id: string,
  out: FollowOutput,
  options: FollowOptions,
): Promise<FollowEnd> {
  const screen = out.isTTY ? new Redrawn(out) : new Appended(out);
  const command = options.command ?? "sluice";
  let failures = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) return interrupted(out, id, command);
      let run: RunView;
      try {
        run = await api.run(id);
        failures = 0;
      } catch (err) {
        const refused = err instanceof ApiRefusal && err.status < 500;
        if (refused || ++failures >= TOLERATED_FAILURES || options.signal?.aborted) throw err;
        await pause(options);
        continue;
      }
      screen.show(
        progressLines(run, Date.now(), {
          api: api.base,
          command,
          localUser: api.localUser,
        }),
      );
      if (isTerminal(run.status)) {
        out.write(`${paint(out, outcomeLine(run))}\n`);
        return { kind: "ended", run };
      }
      const waiting = options.untilApproval ? approvalWaitedIn(run) : undefined;
      if (waiting) {
        out.write(
          `run ${run.id} waits for approval at ${waiting}; once decided: ${command} follow ${run.id}\n`,
        );
        return { kind: "waiting", run, step: waiting };
      }
      if (!(await pause(options))) return interrupted(out, id, command);
    }
  } finally {
    screen.close();
  }
}

/** Waits one interval; false when interrupted. */
async function pause(options: FollowOptions): Promise<boolean> {
  try {
    await sleep(options.intervalMs, undefined, options.signal ? { signal: options.signal } : {});
    return true;
  } catch {
    return false;
  }
}

function interrupted(out: FollowOutput, id: string, command: string): FollowEnd {
  out.write(`stopped following run ${id}; it goes on: ${command} follow ${id}\n`);
  return { kind: "interrupted" };
}

/**
 * The approval step the run waits in, once it can be decided: its request is recorded after the
 * task that waits for the decision is ready for one.
 */
function approvalWaitedIn(run: RunView): string | undefined {
  const planned: PlanStep | undefined = run.plan.steps[run.cursor];
  if (planned?.kind !== "approval") return undefined;
  const record = run.steps.find((s) => s.index === run.cursor && s.attempt === run.attempt);
  return record?.status === "RUNNING" && record.request ? planned.id : undefined;
}

/** A terminal: the block of lines is drawn again over itself, with the cursor hidden meanwhile. */
class Redrawn {
  private rows = 0;

  constructor(private readonly out: FollowOutput) {
    out.write(HIDE_CURSOR);
  }

  show(lines: readonly ProgressLine[]): void {
    const columns = this.out.columns || 80;
    // Back to the first row drawn last time, and everything below it cleared.
    const back = this.rows > 0 ? `\x1b[${this.rows}F\x1b[J` : "";
    this.out.write(`${back}${lines.map((line) => paint(this.out, line.text)).join("\n")}\n`);
    // A line longer than the terminal is wide wraps onto more rows, all of which go next time.
    this.rows = lines.reduce(
      (rows, line) => rows + Math.max(1, Math.ceil(line.text.length / columns)),
      0,
    );
  }

  close(): void {
    this.out.write(SHOW_CURSOR);
  }
}

/**
 * A pipe or a file: a line is written when it first shows or when its state changed, indented
 * as on a terminal, so a log keeps steps under their run and hints under their step.
 */
class Appended {
  private readonly printed = new Map<string, string>();

  constructor(private readonly out: FollowOutput) {}

  show(lines: readonly ProgressLine[]): void {
    const changed = lines.filter(
      (line) => !line.pending && this.printed.get(line.key) !== line.state,
    );
    // The run's header comes first once; after that a change of the run's status is what its
    // steps came to, so it follows their lines.
    const ordered =
      this.printed.size === 0
        ? changed
        : [...changed.filter((l) => l.key !== "run"), ...changed.filter((l) => l.key === "run")];
    for (const line of ordered) {
      this.printed.set(line.key, line.state);
      this.out.write(`${paint(this.out, line.text)}\n`);
    }
  }

  close(): void {}
}

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

const COLOURS = {
  SUCCEEDED: "green",
  FAILED: "red",
  ROLLED_BACK: "red",
  STOPPED: "yellow",
  SUPERSEDED: "gray",
  SKIPPED: "gray",
  RUNNING: "cyan",
  QUEUED: "gray",
  pending: "gray",
} as const;
const STATUS_WORD = new RegExp(`\\b(${Object.keys(COLOURS).join("|")})\\b`, "g");

/** Status words in their colours, when the output takes colours. */
function paint(out: FollowOutput, text: string): string {
  if (!out.color) return text;
  return text.replace(STATUS_WORD, (word) =>
    styleText(COLOURS[word as keyof typeof COLOURS], word, { validateStream: false }),
  );
}
