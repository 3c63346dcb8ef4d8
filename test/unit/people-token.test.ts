import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearerMatches, localPerson } from "../../local/people-token";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-token-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("the local person's token", () => {
  it("is made once, kept for its owner only, and the same after a restart", async () => {
    const first = await localPerson(dir, { SLUICE_LOCAL_USER: "ana" });
    expect(first.token).toMatch(/^[\w-]{43}$/);
    expect((await stat(path.join(dir, "ui-token"))).mode & 0o777).toBe(0o600);
    const again = await localPerson(dir, { SLUICE_LOCAL_USER: "ana" });
    expect(again.token).toBe(first.token);
    expect(again.claims).toEqual({ email: "ana@localhost", sub: "local-ana" });
  });

  it("is made anew when the kept one is not a token, and names the email it is told", async () => {
    await writeFile(path.join(dir, "ui-token"), "short\n");
    const person = await localPerson(dir, { SLUICE_LOCAL_EMAIL: "bo@example.com" });
    expect(person.token).toMatch(/^[\w-]{43}$/);
    expect((await readFile(path.join(dir, "ui-token"), "utf8")).trim()).toBe(person.token);
    expect(person.claims.email).toBe("bo@example.com");
  });

  it("lets in only the bearer of the very token", () => {
    const token = "a".repeat(43);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${"a".repeat(42)}b`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}a`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
  });
});
