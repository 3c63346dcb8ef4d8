import path from "node:path";

/** Where the local stand-ins of SES and Slack put what they would have sent. */
export function outboxDir(stateDir: string, channel: "email" | "slack"): string {
  return path.join(stateDir, "outbox", channel);
}

/**
 * The start of an outbox file's name: its time, then a counter for files of the same
 * millisecond, so a listing sorts the folder by when things were sent.
 */
export function outboxName(at: Date, sequence: number): string {
  const stamp = at.toISOString().replace(/[:.]/g, "-");
  return `${stamp}-${String(sequence % 10_000).padStart(4, "0")}`;
}
