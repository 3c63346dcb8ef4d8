import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UndoJournal } from "../../local/dynamodb/undo-journal";

const image = { table: "t", key: { pk: { S: "a" } }, old: { pk: { S: "a" }, n: { N: "1" } } };

describe("the local DynamoDB's undo journal", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sluice-undo-"));
    file = path.join(dir, "undo-journal.jsonl");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes on from a line a killed process tore, and reads back every write left open", async () => {
    // Prepare: one write left open, then the start of another torn by a kill
    const first = UndoJournal.open(file);
    first.begin([image]);
    first.close();
    await appendFile(file, '{"id":"torn","begin":[{"table":"t"');

    // Act: a write begun after the restart, left open by the next kill
    const second = UndoJournal.open(file);
    second.begin([image]);
    second.close();
    const third = UndoJournal.open(file);

    // Assess
    expect(second.unfinished).toHaveLength(1);
    expect(third.unfinished).toHaveLength(2);
    expect(third.unfinished.map((w) => w.images)).toEqual([[image], [image]]);
    third.close();
  });
});
