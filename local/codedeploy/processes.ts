import { randomUUID } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import type { JournalLine } from "./hook-agent";
import { HookAgent } from "./hook-agent-client";

/** The agent returns up to the last 4 KB of a script's output as the event's logTail. */
const LOG_TAIL_CHARS = 4096;
/** The groups the hooks started and those gone since, a JSON line each (see JournalLine). */
const JOURNAL_FILE = "groups.jsonl";
/** Set in every hook's environment, so a later process can tell a group's members by it. */
const MARKER_VARIABLE = "SLUICE_CODEDEPLOY_PROCESS";

export interface ScriptRun {
  exitCode: number | null;
  timedOut: boolean;
  /** The run was ended from outside (a stopped deployment, a stopping stack). */
  stopped: boolean;
  /** `[stdout]` and `[stderr]` lines, as the agent reports them, the last 4 KB. */
  logTail: string;
}

export interface ScriptRequest {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Every line of output is appended here too. */
  logFile: string;
  signal?: AbortSignal;
}

/** The journal grows by two short lines a hook; past this it is rewritten with the live ones. */
const JOURNAL_COMPACT_BYTES = 1024 * 1024;

/**
 * Every process a hook starts, its background children included, lives in the hook's own
 * process group, noted in a journal under `dir` (a line when it starts, one when it is gone:
 * appending makes and removes no file, which on a busy disk cost each hook milliseconds). A
 * stopped deployment kills its running hook's group; a stopping stack kills them all (the hosts
 * go down with it); groups a SIGKILLed stack left behind are killed when the next one starts.
 */
export class HookProcesses {
  private readonly running = new Set<number>();
  /** Groups that outlived their hook (the apps), by marker. */
  private readonly lingering = new Map<string, number>();
  private readonly agent = new HookAgent();
  private readonly journal: string;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.journal = path.join(dir, JOURNAL_FILE);
  }

  /**
   * Kills what hooks started and left running, this process's and what an earlier process
   * noted, each checked by its marker in /proc, and starts the journal afresh. Runs before this
   * process starts any hook, and as the stack stops (killAll).
   */
  killLeftovers(): void {
    // Its own from memory: the journal may be gone with the state folder.
    const groups = new Map<string, { marker: string; pgid: number; file?: string }>(
      [...this.lingering].map(([marker, pgid]) => [marker, { marker, pgid }]),
    );
    for (const group of this.noted()) groups.set(group.marker, group);
    for (const group of groups.values()) {
      for (const pid of processesMarked(group.marker, group.pgid)) killGroupOf(pid);
      if (group.file) rmSync(path.join(this.dir, group.file), { force: true });
    }
    this.lingering.clear();
    if (existsSync(this.dir)) writeFileSync(this.journal, "");
  }

  /** Kills every group noted: running hooks and what earlier hooks left running (the apps). */
  killAll(): void {
    for (const pgid of this.running) killGroup(pgid);
    this.killLeftovers();
    this.agent.close();
  }

  /** Starts the agent that runs the hooks ahead of the first one. */
  warm(): void {
    this.agent.warm();
  }

  /** Starts the hook through the agent; resolves once it has ended and its output closed. */
  run(request: ScriptRequest): Promise<ScriptRun> {
    const marker = randomUUID();
    return new Promise((resolve) => {
      let pgid: number | undefined;
      let timedOut = false;
      let stopped = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (pgid) killGroup(pgid);
      }, request.timeoutMs);
      const stop = () => {
        stopped = true;
        if (pgid) killGroup(pgid);
      };
      request.signal?.addEventListener("abort", stop, { once: true });
      const started = (pid: number) => {
        pgid = pid;
        this.running.add(pid);
        // Stopped or timed out while the agent was starting it.
        if (stopped || timedOut) killGroup(pid);
      };
      const ended = (
        exitCode: number | null,
        output: string,
        error?: string,
        lingers?: boolean,
      ) => {
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", stop);
        if (pgid) this.running.delete(pgid);
        // What the script left running (the app it started) stays noted until it is gone; the
        // agent noted the others gone itself (unless it died, which leaves them to this check).
        if (pgid && (lingers ?? groupAlive(pgid))) this.lingering.set(marker, pgid);
        else if (pgid && lingers === undefined) this.noteGone(marker);
        this.forgetEndedGroups();
        const logTail = error ? `${output}[stderr]${error}\n`.slice(-LOG_TAIL_CHARS) : output;
        resolve({ exitCode, timedOut, stopped, logTail });
      };
      this.agent.start(
        {
          command: request.command,
          cwd: request.cwd,
          env: { ...request.env, [MARKER_VARIABLE]: marker },
          logFile: request.logFile,
          journal: this.journal,
          marker,
          tailChars: LOG_TAIL_CHARS,
        },
        { started, ended },
      );
    });
  }

  private forgetEndedGroups(): void {
    for (const [marker, pgid] of this.lingering) {
      if (this.running.has(pgid) || groupAlive(pgid)) continue;
      this.noteGone(marker);
      this.lingering.delete(marker);
    }
    this.compact();
  }

  private noteGone(marker: string): void {
    appendFileSync(
      this.journal,
      `${JSON.stringify({ marker, gone: true } satisfies JournalLine)}\n`,
    );
  }

  /**
   * Rewrites a long journal with only the groups still alive, while no hook is with the agent
   * (it writes to the journal only for a hook it was handed).
   */
  private compact(): void {
    if (!this.agent.idle || this.running.size > 0) return;
    const size = statSync(this.journal, { throwIfNoEntry: false })?.size ?? 0;
    if (size < JOURNAL_COMPACT_BYTES) return;
    const live = [...this.lingering].map(
      ([marker, pgid]) => `${JSON.stringify({ marker, pgid } satisfies JournalLine)}\n`,
    );
    const next = `${this.journal}.next`;
    writeFileSync(next, live.join(""));
    renameSync(next, this.journal);
  }

  /**
   * Every group noted and not noted gone: the journal's, and the record files (one JSON file a
   * group) that stacks before the journal wrote.
   */
  private noted(): { marker: string; pgid: number; file?: string }[] {
    const groups = new Map<string, { marker: string; pgid: number; file?: string }>();
    let text = "";
    try {
      text = readFileSync(this.journal, "utf8");
    } catch {
      // No journal yet.
    }
    for (const line of text.split("\n")) {
      let entry: Partial<{ marker: string; pgid: number; gone: boolean }>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // A line a SIGKILL cut short.
      }
      if (typeof entry.marker !== "string") continue;
      if (entry.gone) groups.delete(entry.marker);
      else if (typeof entry.pgid === "number") {
        groups.set(entry.marker, { marker: entry.marker, pgid: entry.pgid });
      }
    }
    const files = existsSync(this.dir) ? readdirSync(this.dir) : [];
    for (const file of files.filter((f) => f.endsWith(".json"))) {
      try {
        const noted = JSON.parse(readFileSync(path.join(this.dir, file), "utf8")) as {
          pgid: number;
          marker: string;
        };
        groups.set(noted.marker, { ...noted, file });
      } catch {
        // Not a record.
      }
    }
    return [...groups.values()];
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function killGroupOf(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * The processes carrying `marker` in their environment; where /proc cannot be read, the noted
 * group itself (a reused process id is then a risk this machine cannot rule out).
 */
function processesMarked(marker: string, pgid: number): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return [pgid];
  }
  const needle = `${MARKER_VARIABLE}=${marker}\0`;
  return pids.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle);
    } catch {
      return false;
    }
  });
}
