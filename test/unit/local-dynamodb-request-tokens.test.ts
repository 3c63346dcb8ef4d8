import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonical } from "../../local/dynamodb/items";
import { fingerprintOf, RequestTokens } from "../../local/dynamodb/request-tokens";

const request = {
  ClientRequestToken: "retry-me",
  TransactItems: [{ Put: { TableName: "t", Item: { pk: { S: "a" }, sk: { S: "b" } } } }],
};

describe("the local DynamoDB's request tokens", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sluice-tokens-"));
    file = path.join(dir, "request-tokens.jsonl");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("match a retry whatever order its maps were written in, and not other parameters", () => {
    const reordered = {
      TransactItems: [{ Put: { Item: { sk: { S: "b" }, pk: { S: "a" } }, TableName: "t" } }],
      ClientRequestToken: "another",
    };
    const other = { ...request, TransactItems: [{ Put: { TableName: "u", Item: {} } }] };

    expect(fingerprintOf(reordered)).toBe(fingerprintOf(request));
    expect(fingerprintOf(other)).not.toBe(fingerprintOf(request));
  });

  it("keep a committed token's fingerprint as it was given, and find it after a restart", async () => {
    const tokens = RequestTokens.open(file);
    tokens.committed("retry-me", fingerprintOf(request));
    tokens.close();

    const line = JSON.parse((await readFile(file, "utf8")).trim());
    const reopened = RequestTokens.open(file);
    const seen = reopened.lookup("retry-me");
    reopened.close();

    expect(line.request).toMatch(/^[0-9a-f]{64}$/);
    expect(seen).toMatchObject({ request: fingerprintOf(request) });
  });

  it("read a token file that holds requests as text, as earlier versions wrote it", async () => {
    const text = canonical({ ...request, ClientRequestToken: undefined });
    await writeFile(
      file,
      `${JSON.stringify({ token: "retry-me", request: text, at: Date.now() })}\n`,
    );

    const tokens = RequestTokens.open(file);
    const seen = tokens.lookup("retry-me");
    tokens.close();

    expect(seen).toMatchObject({ request: fingerprintOf(request) });
  });
});
