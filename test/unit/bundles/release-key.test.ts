import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseReleaseKey, releaseKey } from "../../../domain/bundles/release-key";

describe("parseReleaseKey", () => {
  it.each([
    ["hello/1.0.0.tar.gz", { app: "hello", version: "1.0.0", format: "tar.gz" }],
    ["hello/1.0.0.zip", { app: "hello", version: "1.0.0", format: "zip" }],
    [
      "web-api/2024.05.01+build.7.zip",
      { app: "web-api", version: "2024.05.01+build.7", format: "zip" },
    ],
    ["svc/v1.tar.tar.gz", { app: "svc", version: "v1.tar", format: "tar.gz" }],
  ])("reads %s", (key, expected) => {
    // Act
    const parsed = parseReleaseKey(key);

    // Assess
    expect(parsed).toEqual(expected);
  });

  it.each([
    ["no folder", "1.0.0.zip"],
    ["nested folder", "hello/beta/1.0.0.zip"],
    ["unsupported extension", "hello/1.0.0.tgz"],
    ["plain tar", "hello/1.0.0.tar"],
    ["upper-case app", "Hello/1.0.0.zip"],
    ["one-letter app", "h/1.0.0.zip"],
    ["app starting with a dash", "-hello/1.0.0.zip"],
    ["version starting with a dot", "hello/.1.zip"],
    ["version with a space", "hello/1 0.zip"],
    ["empty version", "hello/.zip"],
    ["still URL-encoded", "hello/1.0.0%2Bb.zip"],
    ["version over 128 characters", `hello/${"1".repeat(129)}.zip`],
  ])("refuses a key with %s", (_, key) => {
    // Act
    const parsed = parseReleaseKey(key);

    // Assess
    expect(parsed).toBeNull();
  });

  it("never throws, and every key it accepts is rebuilt exactly from its parts", () => {
    // Prepare
    const noise = fc.string({ unit: fc.constantFrom(..."ab09-._+A/%\\ "), maxLength: 12 });
    const app = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,8}$/), noise);
    const version = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,12}$/), noise);
    const separator = fc.constantFrom("/", "/", "//", "");
    const extension = fc.constantFrom(".zip", ".tar.gz", ".tgz", ".tar", "");
    const keyish = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(app, separator, version, extension).map((parts) => parts.join("")),
    );

    // Act / Assess
    fc.assert(
      fc.property(keyish, (key) => {
        const parsed = parseReleaseKey(key);
        if (parsed === null) return;
        expect(releaseKey(parsed)).toBe(key);
        expect(parsed.app).toMatch(/^[a-z0-9][a-z0-9-]{1,62}$/);
        expect(parsed.version).toMatch(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/);
      }),
    );
  });

  it("reads back every valid app, version and format it is given", () => {
    // Prepare
    const app = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,62}$/);
    const version = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/);
    const format = fc.constantFrom("zip" as const, "tar.gz" as const);

    // Act / Assess
    fc.assert(
      fc.property(fc.record({ app, version, format }), (parts) => {
        expect(parseReleaseKey(releaseKey(parts))).toEqual(parts);
      }),
    );
  });
});
