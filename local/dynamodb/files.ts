import { renameSync, writeFileSync } from "node:fs";

/** Replaces a small file whole, so a crash leaves the old content or the new, never half. */
export function writeFileAtomic(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/** The complete lines of an append-only file; a line torn by a crash mid-write is left out. */
export function completeLines(text: string): string[] {
  const end = text.lastIndexOf("\n");
  return end < 0 ? [] : text.slice(0, end).split("\n").filter(Boolean);
}
