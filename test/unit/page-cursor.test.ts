import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../adapters/page-cursor";
import { BadRequestError } from "../../domain/errors";

const KEY = ["pk", "sk", "gsi1pk", "gsi1sk"] as const;

describe("a list's cursor", () => {
  it("comes back as the key it was made from", () => {
    const key = {
      pk: "RUN#1",
      sk: "RUN",
      gsi1pk: "APP#shop#RUNS",
      gsi1sk: "2026-12-02T00:00:00Z#1",
    };

    expect(decodeCursor(encodeCursor(key), KEY, { gsi1pk: "APP#shop#RUNS" })).toEqual(key);
  });

  it.each([
    ["another list's partition", { pk: "a", sk: "b", gsi1pk: "APP#other#RUNS", gsi1sk: "c" }],
    ["other attributes", { pk: "a", sk: "b" }],
    ["an attribute more", { pk: "a", sk: "b", gsi1pk: "APP#shop#RUNS", gsi1sk: "c", x: "d" }],
    ["a number for a key", { pk: "a", sk: 1, gsi1pk: "APP#shop#RUNS", gsi1sk: "c" }],
    ["an array", ["a"]],
  ])("is refused when it holds %s", (_what, key) => {
    expect(() =>
      decodeCursor(encodeCursor(key as never), KEY, { gsi1pk: "APP#shop#RUNS" }),
    ).toThrow(BadRequestError);
  });

  it("refuses anything that is not one it handed out, and never throws otherwise", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => decodeCursor(text, KEY, { gsi1pk: "APP#shop#RUNS" })).toThrow(BadRequestError);
      }),
    );
  });
});
