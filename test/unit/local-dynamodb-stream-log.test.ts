import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type NewStreamRecord, StreamLog } from "../../local/dynamodb/stream-log";

const DAY_MS = 24 * 60 * 60 * 1000;
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function logFile(): string {
  dir = mkdtempSync(path.join(tmpdir(), "sluice-stream-log-"));
  return path.join(dir, "records.jsonl");
}

const record = (pk: string, time: number): NewStreamRecord => ({
  table: "t",
  streamArn: "arn:t",
  eventName: "INSERT",
  time,
  viewType: "KEYS_ONLY",
  keys: { pk: { S: pk } },
  sizeBytes: 3,
});

describe("the local DynamoDB's stream log", () => {
  it("drops a line torn by a crash, and numbers on from the last whole record", () => {
    // Prepare
    const file = logFile();
    const first = StreamLog.open(file);
    first.append([record("a", Date.now()), record("b", Date.now())], "write-1");
    first.close();
    appendFileSync(file, '{"seq":"000000000000000000003","table":"t","str');

    // Act
    const log = StreamLog.open(file, ["write-1", "write-2"]);
    const [next] = log.append([record("c", Date.now())]);
    log.close();

    // Assess
    expect(next?.seq).toBe("000000000000000000003");
    expect(log.hasRecordsOf("write-1")).toBe(true);
    expect(log.hasRecordsOf("write-2")).toBe(false);
    expect(
      StreamLog.open(file)
        .readAfter("t", "")
        .map((r) => r.keys.pk?.S),
    ).toEqual(["a", "b", "c"]);
  });

  it("keeps DynamoDB Streams' 24 hours, and the last record whatever its age", () => {
    // Prepare
    const file = logFile();
    const now = Date.now();
    const first = StreamLog.open(file, [], now - 3 * DAY_MS);
    first.append([record("old", now - 3 * DAY_MS), record("fresh", now - 1000)]);
    first.append([record("stale-last", now - 2 * DAY_MS)]);
    first.close();

    // Act
    const log = StreamLog.open(file, [], now);

    // Assess
    expect(log.readAfter("t", "").map((r) => r.keys.pk?.S)).toEqual(["fresh", "stale-last"]);
    expect(log.lastSequence).toBe("000000000000000000003");
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(2);
    log.close();
  });

  it("reads back the records after a sequence number", () => {
    // Prepare
    const file = logFile();
    const log = StreamLog.open(file);
    for (let i = 0; i < 50; i++) log.append([record(`k${i}`, Date.now())]);

    // Act
    const after = log.readAfter("t", "000000000000000000047");
    const page = log.readStreamAfter("arn:t", "000000000000000000010", 2);
    log.close();

    // Assess
    expect(after.map((r) => r.keys.pk?.S)).toEqual(["k47", "k48", "k49"]);
    expect(page.map((r) => r.seq)).toEqual(["000000000000000000011", "000000000000000000012"]);
  });
});
