import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHANGE_METADATA_KEYS,
  changeFromMetadata,
  changeMetadata,
  decodeValue,
  MAX_USER_METADATA_BYTES,
} from "../../domain/bundles/change-metadata";
import { parseGitAuthor } from "../../domain/git-author";
import { MAX_CHANGE_MESSAGE_LENGTH, RunChangeSchema, runChangeOf } from "../../domain/run";

/** The bytes S3 counts against its 2 KB: every key, with its prefix, and every value. */
function metadataBytes(metadata: Record<string, string>): number {
  return Object.entries(metadata).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(`x-amz-meta-${key}${value}`),
    0,
  );
}

describe("runChangeOf", () => {
  it("keeps the whole message and the author, trimmed, and leaves out what is empty", () => {
    const change = runChangeOf({
      message: "Fix the login page\n\nIt crashed on empty passwords.\n",
      name: " Ada Lovelace ",
      email: "ada@example.com",
      username: "",
    });

    expect(change).toEqual({
      message: "Fix the login page\n\nIt crashed on empty passwords.",
      author: { name: "Ada Lovelace", email: "ada@example.com" },
    });
    expect(RunChangeSchema.parse(change)).toEqual(change);
    expect(runChangeOf({ message: " \n", name: "" })).toBeUndefined();
  });

  it("cuts a long message to the limit, never between the halves of a character", () => {
    const message = `${"a".repeat(MAX_CHANGE_MESSAGE_LENGTH - 1)}😀 and more`;

    const change = runChangeOf({ message });

    expect(change?.message).toBe("a".repeat(MAX_CHANGE_MESSAGE_LENGTH - 1));
    expect(RunChangeSchema.safeParse(change).success).toBe(true);
  });
});

describe("parseGitAuthor", () => {
  it.each([
    ["Jane Doe <jane@example.com>", { name: "Jane Doe", email: "jane@example.com" }],
    ["  Zoë Ångström   <zoe@example.org> ", { name: "Zoë Ångström", email: "zoe@example.org" }],
    ["<only@example.com>", { email: "only@example.com" }],
    ["only@example.com", { email: "only@example.com" }],
    ["Just A Name", { name: "Just A Name" }],
    ["", {}],
  ])("reads %j", (raw, author) => {
    expect(parseGitAuthor(raw)).toEqual(author);
  });
});

describe("a change in an upload's S3 metadata", () => {
  it("goes as plain text where S3 keeps it so, and as RFC 2047 encoded words where not", () => {
    const metadata = changeMetadata({
      message: "Zoë's fix\n\nsecond line",
      name: "Zoë Ångström",
      email: "zoe@example.org",
    });

    expect(metadata[CHANGE_METADATA_KEYS.email]).toBe("zoe@example.org");
    expect(metadata[CHANGE_METADATA_KEYS.name]).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(changeFromMetadata(metadata)).toEqual({
      message: "Zoë's fix\n\nsecond line",
      author: { name: "Zoë Ångström", email: "zoe@example.org" },
    });
  });

  it("reads values as S3 returns them too: Q-encoded words, and plain text", () => {
    expect(decodeValue("=?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?=")).toBe("Zoë Ångström");
    expect(decodeValue("=?UTF-8?B?Wm/Dqw==?= =?UTF-8?B?IMOFbmdzdHLDtm0=?=")).toBe("Zoë Ångström");
    expect(decodeValue("=?ISO-8859-1?Q?Zo=EB?=")).toBe("Zoë");
    expect(decodeValue("plain = text ?")).toBe("plain = text ?");
    expect(changeFromMetadata({ "other-key": "x" })).toBeUndefined();
  });

  it("round-trips any change that fits, and never passes S3's 2 KB", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 3000 });
    fc.assert(
      fc.property(text, text, fc.emailAddress(), (message, name, email) => {
        const metadata = changeMetadata({ message, name, email });
        const read = changeFromMetadata(metadata);
        const whole = runChangeOf({ message, name, email });

        expect(metadataBytes(metadata)).toBeLessThanOrEqual(MAX_USER_METADATA_BYTES);
        expect(read?.author?.email).toBe(whole?.author?.email);
        // What had to be cut to fit is the start of what was given.
        expect((whole?.author?.name ?? "").startsWith(read?.author?.name ?? "")).toBe(true);
        expect((whole?.message ?? "").startsWith(read?.message ?? "")).toBe(true);
        if (metadataBytes(metadata) < MAX_USER_METADATA_BYTES / 2) expect(read).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });
});

describe("runChangeOf's commit time", () => {
  it("keeps an ISO 8601 commit time, where lead time starts, and leaves out anything else", () => {
    expect(runChangeOf({ message: "m", committedAt: "2026-01-05T10:30:00+02:00" })).toEqual({
      message: "m",
      committedAt: "2026-01-05T10:30:00+02:00",
    });
    expect(runChangeOf({ message: "m", committedAt: "yesterday" })).toEqual({ message: "m" });
  });
});
