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
 * Executions under `<stateDir>/stepfunctions/executions/`: one append-only journal per execution
 * (`<state machine>/<execution>.jsonl`), and every change of a summary appended to one
 * `summaries.jsonl` beside them, an execution's last line there being its summary. A new file or
 * folder costs this disk far more than a line added to a file already open (0.7 ms against
 * 10 µs), so an execution creates one file, and no summary is replaced whole at each change.
 * Writes are synchronous, so whatever an API call acknowledged, or the engine went on from, is
 * in the files when the process is killed. (Not flushed to the disk itself: a power cut may lose
 * the last moments.) An earlier version kept each execution in a folder of its own, its summary
 * in `execution.json` and its journal in `journal.jsonl`; such folders are read and kept too.
 */
export class ExecutionStore {
  private readonly root: string;
  private readonly summariesFile: string;
  /** Journals kept open while their executions run: one write a record, not three calls. */
  private readonly open = new Map<string, number>();
  private readonly machineDirs = new Set<string>();
  /** Executions kept in an earlier version's folders, whose journals stay there. */
  private readonly inFolders = new Set<string>();
  private readonly announcementsFile: string;
  private announcements: number | undefined;
  private summaries: number | undefined;

  constructor(stateDir: string) {
    this.root = path.join(stateDir, "stepfunctions", "executions");
    this.summariesFile = path.join(this.root, "summaries.jsonl");
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
    for (const fd of [this.announcements, this.summaries]) if (fd !== undefined) closeSync(fd);
    this.announcements = undefined;
    this.summaries = undefined;
  }

  private announced(): Set<string> {
    if (!existsSync(this.announcementsFile)) return new Set();
    return new Set(readFileSync(this.announcementsFile, "utf8").split("\n"));
  }

  /** Writes a new execution's journal, then its summary: the summary makes it exist. */
  create(summary: ExecutionSummary, records: JournalRecord[]): void {
    const journal = this.journalOf(summary.executionArn);
    const machineDir = path.dirname(journal);
    if (!this.machineDirs.has(machineDir)) {
      mkdirSync(machineDir, { recursive: true });
      this.machineDirs.add(machineDir);
    }
    writeFileSync(journal, records.map(line).join(""));
    this.save(summary);
  }

  save(summary: ExecutionSummary): void {
    this.summaries ??= openSync(this.summariesFile, "a");
    writeSync(this.summaries, `${JSON.stringify(summary)}\n`);
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
   * Every execution kept, summaries always and journals of running ones. One whose summary
   * cannot be read comes back with what its folder names tell, and the problem.
   */
  loadAll(
    arnOf: (machine: string, name: string) => string,
    machineArnOf: (machine: string) => string,
  ): StoredExecution[] {
    const { latest, lines, unreadable } = this.readSummaries();
    const announced = this.announced();
    const loaded: StoredExecution[] = [];
    const known: ExecutionSummary[] = [];
    for (const machineDir of readdirSync(this.root, { withFileTypes: true })) {
      if (!machineDir.isDirectory()) continue;
      const machine = decodeURIComponent(machineDir.name);
      for (const entry of readdirSync(path.join(this.root, machineDir.name), {
        withFileTypes: true,
      })) {
        const inFolder = entry.isDirectory();
        if (!inFolder && !entry.name.endsWith(".jsonl")) continue;
        const name = inFolder ? entry.name : entry.name.slice(0, -".jsonl".length);
        const executionArn = arnOf(machine, name);
        const where = path.join(this.root, machineDir.name, entry.name);
        if (inFolder) this.inFolders.add(executionArn);
        let summary = latest.get(executionArn);
        let problem: string | undefined;
        try {
          if (inFolder) summary ??= folderSummary(where);
        } catch (err) {
          problem = `its summary in ${where} is unreadable: ${(err as Error).message}`;
        }
        if (!summary && !problem && unreadable.length === 0) {
          // A start the process died in before acknowledging it (the summary comes last).
          rmSync(where, { recursive: true, force: true });
          this.inFolders.delete(executionArn);
          continue;
        }
        if (!summary) {
          problem ??= `lines ${unreadable.join(", ")} of ${this.summariesFile} are unreadable, and its summary may be one of them`;
          const fallback: ExecutionSummary = {
            executionArn,
            stateMachineArn: machineArnOf(machine),
            name,
            input: "{}",
            startDate: Date.now() / 1000,
            status: "RUNNING",
            redriveCount: 0,
            announced: false,
          };
          loaded.push({ summary: fallback, journal: [], problem });
          continue;
        }
        known.push(summary);
        summary.announced ||= announced.has(`${executionArn} ${summary.stopDate}`);
        try {
          const journal = summary.status === "RUNNING" ? this.readJournal(executionArn) : [];
          loaded.push({ summary, journal });
        } catch (err) {
          const problem = `its journal in ${where} is unreadable: ${(err as Error).message}`;
          loaded.push({ summary, journal: [], problem });
        }
      }
    }
    // Each change added a line; one line an execution is all a start needs. Kept as it is while
    // a line is unreadable, which a rewrite would lose.
    if (unreadable.length === 0 && lines > known.length) this.rewriteSummaries(known);
    return loaded;
  }

  /** Replaces `summaries.jsonl` by one line an execution, by rename: never half written. */
  private rewriteSummaries(summaries: readonly ExecutionSummary[]): void {
    const temporary = `${this.summariesFile}.tmp`;
    writeFileSync(temporary, summaries.map((summary) => `${JSON.stringify(summary)}\n`).join(""));
    renameSync(temporary, this.summariesFile);
  }

  /** The last summary of each execution in `summaries.jsonl`, and which lines are not one. */
  private readSummaries(): {
    latest: Map<string, ExecutionSummary>;
    lines: number;
    unreadable: number[];
  } {
    const latest = new Map<string, ExecutionSummary>();
    const unreadable: number[] = [];
    if (!existsSync(this.summariesFile)) return { latest, lines: 0, unreadable };
    const lines = readFileSync(this.summariesFile, "utf8").split("\n");
    let count = 0;
    for (const [i, text] of lines.entries()) {
      if (!text) continue;
      count++;
      const parsed = SummarySchema.safeParse(jsonOrUndefined(text));
      if (parsed.success) latest.set(parsed.data.executionArn, parsed.data);
      // A torn last line is a write the process died in, acknowledged to nobody.
      else if (lines.slice(i + 1).some(Boolean)) unreadable.push(i + 1);
    }
    return { latest, lines: count, unreadable };
  }

  private journalOf(executionArn: string): string {
    const [machine = "", name = ""] = executionArn.split(":").slice(-2);
    const machineDir = path.join(this.root, encodeURIComponent(machine));
    return this.inFolders.has(executionArn)
      ? path.join(machineDir, name, "journal.jsonl")
      : path.join(machineDir, `${name}.jsonl`);
  }
}

/** The `execution.json` summary in an earlier version's folder of an execution, if any. */
function folderSummary(dir: string): ExecutionSummary | undefined {
  const file = path.join(dir, "execution.json");
  if (!existsSync(file)) return undefined;
  return SummarySchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function line(record: JournalRecord): string {
  return `${JSON.stringify(record)}\n`;
}
