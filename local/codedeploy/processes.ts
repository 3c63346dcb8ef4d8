import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { HookAgent } from "./hook-agent-client";

/** The agent returns up to the last 4 KB of a script's output as the event's logTail. */
const LOG_TAIL_CHARS = 4096;
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

/**
 * Every process a hook starts, its background children included, lives in the hook's own
 * process group, noted in a file under `dir` until the group is gone. A stopped deployment
 * kills its running hook's group; a stopping stack kills them all (the hosts go down with it);
 * groups a SIGKILLed stack left behind are killed when the next one starts.
 */
export class HookProcesses {
  private readonly running = new Set<number>();
  /** The records of groups that outlived their hook (the apps), by file, with their group. */
  private readonly lingering = new Map<string, number>();
  private readonly agent = new HookAgent();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Kills what an earlier process started and noted, checked by the marker in /proc. */
  killLeftovers(): void {
    for (const record of this.records()) {
      for (const pid of processesMarked(record.marker, record.pgid)) killGroupOf(pid);
      rmSync(path.join(this.dir, record.file), { force: true });
    }
    this.lingering.clear();
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
    const recordFile = path.join(this.dir, `${marker}.json`);
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
      const ended = (exitCode: number | null, output: string, error?: string) => {
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", stop);
        if (pgid) this.running.delete(pgid);
        // What the script left running (the app it started) stays noted until it is gone.
        if (pgid && groupAlive(pgid)) this.lingering.set(recordFile, pgid);
        else rmSync(recordFile, { force: true });
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
          recordFile,
          marker,
          tailChars: LOG_TAIL_CHARS,
        },
        { started, ended },
      );
    });
  }

  private forgetEndedGroups(): void {
    for (const [file, pgid] of this.lingering) {
      if (this.running.has(pgid) || groupAlive(pgid)) continue;
      rmSync(file, { force: true });
      this.lingering.delete(file);
    }
  }

  private records(): { file: string; pgid: number; marker: string }[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith(".json"))
      .flatMap((file) => {
        try {
          const noted = JSON.parse(readFileSync(path.join(this.dir, file), "utf8")) as {
            pgid: number;
            marker: string;
          };
          return [{ file, ...noted }];
        } catch {
          return [];
        }
      });
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
