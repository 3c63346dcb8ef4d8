import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";

/**
 * The fleet's agent: a small Node process of its own that starts the hooks, as CodeDeploy's
 * agent is a process of its own on each host. Forking the stack's process (hundreds of MB, its
 * event loop busy with every other stand-in) cost ~10 ms of blocked event loop per hook; this
 * one forks in a fraction of that, off the stack's thread. Plain node runs it (types stripped),
 * so it imports nothing but Node's own modules, and nothing imports it but for its types. It
 * ends when the stack's process goes.
 */

/**
 * A hook to start. Its process group is noted in `journal` (a line appended, see processes.ts)
 * before anything else can happen, and noted gone there once it has ended with nothing left.
 */
export interface AgentRequest {
  id: number;
  command: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  journal: string;
  marker: string;
  /** How much of the end of the output to answer with. */
  tailChars: number;
}

export type AgentReply =
  | { id: number; started: number }
  | {
      id: number;
      exitCode: number | null;
      error?: string;
      logTail: string;
      /** Its process group outlived it (an app it started): not noted gone. */
      lingering: boolean;
    };

/** One line of the journal: a group started under `marker`, or (`gone`) ended. */
export type JournalLine = { marker: string; pgid: number } | { marker: string; gone: true };

/** Appends a line to the journal: no file made or removed, so no folder changes on disk. */
function note(journal: string, line: JournalLine): void {
  appendFileSync(journal, `${JSON.stringify(line)}\n`);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(request: AgentRequest, reply: (message: AgentReply) => void): void {
  const child = spawn(request.command, [], {
    cwd: request.cwd,
    env: request.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pgid = child.pid;
  if (pgid) {
    note(request.journal, { marker: request.marker, pgid });
    reply({ id: request.id, started: pgid });
  }
  let tail = "";
  const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    const lines = chunk
      .toString()
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => `[${stream}]${line}\n`)
      .join("");
    appendFileSync(request.logFile, lines);
    tail = (tail + lines).slice(-request.tailChars);
  };
  child.stdout?.on("data", collect("stdout"));
  child.stderr?.on("data", collect("stderr"));
  let ended = false;
  const end = (exitCode: number | null, error?: Error) => {
    if (ended) return;
    ended = true;
    const lingering = pgid !== undefined && groupAlive(pgid);
    if (pgid && !lingering) note(request.journal, { marker: request.marker, gone: true });
    reply({
      id: request.id,
      exitCode,
      logTail: tail,
      lingering,
      ...(error ? { error: error.message } : {}),
    });
  };
  child.on("error", (error) => end(null, error));
  // "close", not "exit": as the agent does, a hook lasts until nothing holds its output.
  child.on("close", (code) => end(code));
}

if (process.send) {
  const reply = (message: AgentReply) => process.send?.(message);
  process.on("message", (request: AgentRequest) => run(request, reply));
  // The stack's process is gone (ended or SIGKILLed): its next start deals with the hooks.
  process.on("disconnect", () => process.exit(0));
}
