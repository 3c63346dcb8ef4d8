import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

const read = (doc: string) => readFile(new URL(`../../docs/${doc}`, import.meta.url), "utf8");

describe("the CLI's examples in the docs", () => {
  it.each(["cli.md", "bundle-format.md"])(
    "%s shows hashes and ids whole, as the CLI and the API print them, never cut short with …",
    async (doc) => {
      expect((await read(doc)).match(/\b[0-9a-f]{6,}…|\b[0-9A-Z]{6,}…/g)).toBeNull();
    },
  );
});
