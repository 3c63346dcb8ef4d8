import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { HistoryEvent } from "./history";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** Where an execution is, or was when it ended unsuccessfully: a top-level state. */
export interface Position {
  state: string;
  input: unknown;
  /** When the state was entered (epoch ms): a Wait's time counts from here. */
  at: number;
}

const PositionSchema = z.object({ state: z.string(), input: z.unknown(), at: z.number() });

const SummarySchema = z.object({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  input: z.string(),
  startDate: z.number(),
  status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]),
  stopDate: z.number().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  redriveCount: z.number(),
  redriveDate: z.number().optional(),
  /** The unsuccessful top-level state, where a redrive continues. */
  failedAt: PositionSchema.optional(),
  /**
   * Whether the end was handed to every onEnded listener; if not, it is at the next start.
   * Kept in the announcements log rather than here, which saves rewriting the summary.
   */
  announced: z.boolean(),
});

/** What DescribeExecution and ListExecutions tell (dates in epoch seconds), kept per execution. */
export type ExecutionSummary = z.infer<typeof SummarySchema>;

export type TokenResult = { output: string } | { error: string; cause: string };

/** An execution's journal: its history events and what a restart needs to continue it. */
export type JournalRecord =
  | { k: "event"; event: HistoryEvent }
  | ({ k: "enter" } & Position)
  | {
      k: "token";
      token: string;
      state: string;
      at: number;
      timeoutAt?: number;
      heartbeatMs?: number;
    }
  | { k: "token-submitted"; token: string }
  | { k: "heartbeat"; token: string; at: number }
  | { k: "token-result"; token: string; result: TokenResult }
  | { k: "token-closed"; token: string };

/** One execution as read back from the store; `problem` says why it cannot be read whole. */
export interface StoredExecution {
  summary: ExecutionSummary;
  journal: JournalRecord[];
  problem?: string;
}

/**
 * Executions under `<stateDir>/stepfunctions/executions/<state machine>/<execution>/`: a
 * summary (`execution.json`, replaced whole by rename, so it is never half written) and an
 * append-only journal (`journal.jsonl`). Writes are synchronous, so whatever an API call
 * acknowledged, or the engine went on from, is in the files when the process is killed.
 * (Not flushed to the disk itself: a power cut may lose the last moments.)
 */
export class ExecutionStore {
  private readonly root: string;
  /** Journals kept open while their executions run: one write a record, not three calls. */
  private readonly open = new Map<string, number>();
  private readonly machineDirs = new Set<string>();
  private readonly announcementsFile: string;
  private announcements: number | undefined;

  constructor(stateDir: string) {
    this.root = path.join(stateDir, "stepfunctions", "executions");
    this.announcementsFile = path.join(stateDir, "stepfunctions", "announced.log");
    mkdirSync(this.root, { recursive: true });
  }

  /** Notes that an execution's end (told apart by its stop date) reached every listener. */
  markAnnounced(summary: ExecutionSummary): void {
    this.announcements ??= openSync(this.announcementsFile, "a");
    writeSync(this.announcements, `${summary.executionArn} ${summary.stopDate}\n`);
  }

  /** Closes the files kept open; the next write opens them again. */
  close(): void {
    for (const executionArn of [...this.open.keys()]) this.release(executionArn);
    if (this.announcements !== undefined) closeSync(this.announcements);
    this.announcements = undefined;
  }

  private announced(): Set<string> {
    if (!existsSync(this.announcementsFile)) return new Set();
    return new Set(readFileSync(this.announcementsFile, "utf8").split("\n"));
  }

  /** Writes a new execution's journal, then its summary: the summary makes it exist. */
  create(summary: ExecutionSummary, records: JournalRecord[]): void {
    const dir = this.dirOf(summary.executionArn);
    const machineDir = path.dirname(dir);
    if (!this.machineDirs.has(machineDir)) {
      mkdirSync(machineDir, { recursive: true });
      this.machineDirs.add(machineDir);
    }
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    writeFileSync(this.journalOf(summary.executionArn), records.map(line).join(""));
    this.save(summary);
  }

  save(summary: ExecutionSummary): void {
    const file = path.join(this.dirOf(summary.executionArn), "execution.json");
    writeFileSync(`${file}.tmp`, JSON.stringify(summary));
    renameSync(`${file}.tmp`, file);
  }

  append(executionArn: string, ...records: JournalRecord[]): void {
    let fd = this.open.get(executionArn);
    if (fd === undefined) {
      fd = openSync(this.journalOf(executionArn), "a");
      this.open.set(executionArn, fd);
    }
    writeSync(fd, records.map(line).join(""));
  }

  /** Closes an execution's journal until its next append. */
  release(executionArn: string): void {
    const fd = this.open.get(executionArn);
    if (fd === undefined) return;
    this.open.delete(executionArn);
    closeSync(fd);
  }

  /** The journal as written; a torn last line (the process died mid-write) is left out. */
  readJournal(executionArn: string): JournalRecord[] {
    const file = this.journalOf(executionArn);
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, "utf8").split("\n");
    const records: JournalRecord[] = [];
    for (const [i, text] of lines.entries()) {
      if (!text) continue;
      try {
        records.push(JSON.parse(text) as JournalRecord);
      } catch {
        if (i < lines.length - 1 && lines.slice(i + 1).some(Boolean)) {
          throw new Error(`line ${i + 1} of its journal is not JSON`);
        }
      }
    }
    return records;
  }

  /**
   * Every execution kept, summaries always and journals of running ones. One whose files cannot
   * be read comes back with what its folder names tell, and the problem.
   */
  loadAll(
    arnOf: (machine: string, name: string) => string,
    machineArnOf: (machine: string) => string,
  ): StoredExecution[] {
    const loaded: StoredExecution[] = [];
    const announced = this.announced();
    for (const machineDir of readdirSync(this.root)) {
      const machine = decodeURIComponent(machineDir);
      for (const name of readdirSync(path.join(this.root, machineDir))) {
        const executionArn = arnOf(machine, name);
        const dir = path.join(this.root, machineDir, name);
        if (!existsSync(path.join(dir, "execution.json"))) {
          // A start the process died in before acknowledging it (the summary comes last).
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
        let summary: ExecutionSummary;
        try {
          summary = SummarySchema.parse(
            JSON.parse(readFileSync(path.join(dir, "execution.json"), "utf8")),
          );
        } catch (err) {
          summary = {
            executionArn,
            stateMachineArn: machineArnOf(machine),
            name,
            input: "{}",
            startDate: Date.now() / 1000,
            status: "RUNNING",
            redriveCount: 0,
            announced: false,
          };
          const problem = `its summary in ${dir} is unreadable: ${(err as Error).message}`;
          loaded.push({ summary, journal: [], problem });
          continue;
        }
        summary.announced ||= announced.has(`${executionArn} ${summary.stopDate}`);
        try {
          const journal = summary.status === "RUNNING" ? this.readJournal(executionArn) : [];
          loaded.push({ summary, journal });
        } catch (err) {
          const problem = `its journal in ${dir} is unreadable: ${(err as Error).message}`;
          loaded.push({ summary, journal: [], problem });
        }
      }
    }
    return loaded;
  }

  private dirOf(executionArn: string): string {
    const [machine = "", name = ""] = executionArn.split(":").slice(-2);
    return path.join(this.root, encodeURIComponent(machine), name);
  }

  private journalOf(executionArn: string): string {
    return path.join(this.dirOf(executionArn), "journal.jsonl");
  }
}

function line(record: JournalRecord): string {
  return `${JSON.stringify(record)}\n`;
}
