import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { z } from "zod";
import { openForAppend, writeFileAtomic } from "../files";
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
    this.announcements ??= openForAppend(this.announcementsFile);
    writeAll(this.announcements, `${summary.executionArn} ${summary.stopDate}\n`);
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
    // Kept open for the execution's appends: a file this process just wrote has no torn line.
    const fd = openSync(journal, NEW_JOURNAL);
    this.open.set(summary.executionArn, fd);
    writeAll(fd, records.map(line).join(""));
    this.save(summary);
  }

  save(summary: ExecutionSummary): void {
    this.summaries ??= openForAppend(this.summariesFile);
    writeAll(this.summaries, `${JSON.stringify(summary)}\n`);
  }

  append(executionArn: string, ...records: JournalRecord[]): void {
    let fd = this.open.get(executionArn);
    if (fd === undefined) {
      fd = openForAppend(this.journalOf(executionArn));
      this.open.set(executionArn, fd);
    }
    writeAll(fd, records.map(line).join(""));
  }

  /** Closes an execution's journal until its next append. */
  release(executionArn: string): void {
    const fd = this.open.get(executionArn);
    if (fd === undefined) return;
    this.open.delete(executionArn);
    closeSync(fd);
  }

  /**
   * The journal as written; a torn last line (the process died mid-write, so it was never
   * acted on) is left out. The next append cuts it from the file (see openForAppend).
   */
  readJournal(executionArn: string): JournalRecord[] {
    const file = this.journalOf(executionArn);
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, "utf8").split("\n");
    const records: JournalRecord[] = [];
    for (const [i, line] of lines.entries()) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        if (i < lines.length - 1) throw new Error(`line ${i + 1} of its journal is not JSON`);
      }
    }
    return records;
  }

  /**
   * Every execution kept, summaries always and journals of running ones. One whose summary
   * cannot be read comes back as running, with what is known of it and the problem, so that it
   * ends FAILED saying so.
   */
  loadAll(
    arnOf: (machine: string, name: string) => string,
    machineArnOf: (machine: string) => string,
  ): StoredExecution[] {
    const { latest, lines, unreadable } = this.readSummaries();
    const unattributed = unreadable.filter((u) => u.execution === undefined).map((u) => u.line);
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
        // As this stack names them: its region or account may be set otherwise than before.
        const executionArn = arnOf(machine, name);
        const stateMachineArn = machineArnOf(machine);
        const id = idOf(executionArn);
        const where = path.join(this.root, machineDir.name, entry.name);
        if (inFolder) this.inFolders.add(id);
        let summary = latest.get(id);
        let problem = unreadable.find((u) => u.execution === id)?.problem;
        try {
          if (inFolder) summary ??= folderSummary(where);
        } catch (err) {
          problem ??= `its summary in ${where} is unreadable: ${(err as Error).message}`;
        }
        if (!summary && !problem && unattributed.length === 0) {
          // A start the process died in before acknowledging it (the summary comes last).
          rmSync(where, { recursive: true, force: true });
          this.inFolders.delete(id);
          continue;
        }
        if (summary) known.push(summary);
        problem ??= summary
          ? undefined
          : `lines ${unattributed.join(", ")} of ${this.summariesFile} are unreadable, and its summary may be one of them`;
        if (problem) {
          loaded.push({
            summary: {
              executionArn,
              stateMachineArn,
              name,
              input: summary?.input ?? "{}",
              startDate: summary?.startDate ?? Date.now() / 1000,
              redriveCount: summary?.redriveCount ?? 0,
              status: "RUNNING",
              announced: false,
            },
            // Read all the same: its end, if it has one, or the ids its history goes on from.
            journal: this.journalIfReadable(executionArn),
            problem,
          });
          continue;
        }
        const current = summary as ExecutionSummary;
        current.announced ||= announced.has(`${current.executionArn} ${current.stopDate}`);
        current.executionArn = executionArn;
        current.stateMachineArn = stateMachineArn;
        try {
          const journal =
            current.status === "RUNNING" ? this.readJournal(current.executionArn) : [];
          loaded.push({ summary: current, journal });
        } catch (err) {
          const problem = `its journal in ${where} is unreadable: ${(err as Error).message}`;
          loaded.push({ summary: current, journal: [], problem });
        }
      }
    }
    // Each change added a line; one line an execution is all a start needs. Kept as it is while
    // a line is unreadable and not yet overtaken by a good one: a rewrite would lose it.
    if (unreadable.length === 0 && lines > latest.size) this.rewriteSummaries(known);
    return loaded;
  }

  private journalIfReadable(executionArn: string): JournalRecord[] {
    try {
      return this.readJournal(executionArn);
    } catch {
      return [];
    }
  }

  /** Replaces `summaries.jsonl` by one line an execution, by rename: never half written. */
  private rewriteSummaries(summaries: readonly ExecutionSummary[]): void {
    writeFileAtomic(
      this.summariesFile,
      summaries.map((summary) => `${JSON.stringify(summary)}\n`).join(""),
    );
  }

  /**
   * The last summary of each execution in `summaries.jsonl` (by its state machine and name), how
   * many lines there are, and the unreadable lines no later line of their execution overtook,
   * with the execution each names, where it can be read. A torn last line is left out (the
   * next line added cuts it, see openForAppend).
   */
  private readSummaries(): {
    latest: Map<string, ExecutionSummary>;
    lines: number;
    unreadable: { line: number; execution?: string; problem: string }[];
  } {
    const latest = new Map<string, ExecutionSummary>();
    if (!existsSync(this.summariesFile)) return { latest, lines: 0, unreadable: [] };
    const lines = readFileSync(this.summariesFile, "utf8").split("\n");
    // The text after the last newline is the torn line, written to nobody's knowledge.
    lines.pop();
    const broken: { line: number; execution?: string }[] = [];
    const lastGood = new Map<string, number>();
    let count = 0;
    for (const [i, line] of lines.entries()) {
      if (!line) continue;
      count++;
      const parsed = SummarySchema.safeParse(jsonOrUndefined(line));
      if (parsed.success) {
        const id = idOf(parsed.data.executionArn);
        latest.set(id, parsed.data);
        lastGood.set(id, i);
        continue;
      }
      // A line that names two executions is one torn line run on by another, whose it is not.
      const named = [...line.matchAll(/"executionArn":"([^"]+)"/g)];
      const execution = named.length === 1 ? named[0]?.[1] : undefined;
      broken.push({ line: i + 1, ...(execution ? { execution: idOf(execution) } : {}) });
    }
    const unreadable = broken
      .filter((b) => b.execution === undefined || (lastGood.get(b.execution) ?? -1) < b.line - 1)
      .map((b) => ({
        ...b,
        problem: `its latest summary, line ${b.line} of ${this.summariesFile}, is unreadable`,
      }));
    return { latest, lines: count, unreadable };
  }

  private journalOf(executionArn: string): string {
    const [machine = "", name = ""] = executionArn.split(":").slice(-2);
    const machineDir = path.join(this.root, encodeURIComponent(machine));
    return this.inFolders.has(idOf(executionArn))
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

/**
 * An execution as the store tells them apart: its state machine's name and its own, the end of
 * its ARN (its region and account are the stack's, which may be set otherwise another time).
 */
function idOf(executionArn: string): string {
  return executionArn.split(":").slice(-2).join(":");
}

/** Writes all of `text`, or nothing: what a full disk took only in part is taken back. */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  const written = writeSync(fd, bytes);
  if (written === bytes.length) return;
  ftruncateSync(fd, fstatSync(fd).size - written);
  throw new Error(`only ${written} of ${bytes.length} bytes could be written`);
}

/** A journal made anew (emptied if a file was there), appended to like every other. */
const NEW_JOURNAL = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;

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
