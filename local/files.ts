import {
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} from "node:fs";

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

/**
 * Opens an append-only file to add lines to, first cutting what follows its last newline: a line
 * torn by a process that died while writing it, which the next line must not run on from.
 */
export function openForAppend(file: string): number {
  const fd = openSync(file, "a+");
  const { size } = fstatSync(fd);
  const last = Buffer.alloc(1);
  if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== NEWLINE) {
    ftruncateSync(fd, readFileSync(file).lastIndexOf(NEWLINE) + 1);
  }
  return fd;
}

const NEWLINE = 0x0a;
