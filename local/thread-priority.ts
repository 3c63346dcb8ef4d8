import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Gives the calling thread a nice value (0 to 19: higher yields more), where the OS lets one
 * thread have its own: on Linux, through the thread's id, which /proc/thread-self names.
 * Elsewhere, or when refused, it does nothing: the thread keeps the process's priority.
 */
export function niceThisThread(nice: number): boolean {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid)) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
