import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { listEntries, readEntry } from "../../../domain/bundles/archive";
import { DEFAULT_BUNDLE_LIMITS } from "../../../domain/bundles/inspect";
import { rejectionOf, useTempDirs, validEntries, writeBundle } from "../../support/bundles";

const tempDir = useTempDirs();
const MIB = 1024 * 1024;

/** A valid tar.gz bundle whose tar stream gets `trailer` appended before it is compressed. */
async function bundleWith(trailer: Buffer): Promise<string> {
  const file = await writeBundle(join(await tempDir(), "b.tar.gz"), "tar.gz", validEntries());
  const tar = gunzipSync(await readFile(file));
  await writeFile(file, gzipSync(Buffer.concat([tar, trailer]), { level: 9 }));
  return file;
}

describe("what follows a tar.gz bundle's end-of-archive marker", () => {
  it("may be an archiver's record padding of zeros", async () => {
    const file = await bundleWith(Buffer.alloc(20 * 512));

    const entries = await listEntries(file, "tar.gz", DEFAULT_BUNDLE_LIMITS);

    expect(entries.map((entry) => entry.path)).toContain("appspec.yml");
    expect(await readEntry(file, "tar.gz", "appspec.yml", 64 * 1024)).not.toBeNull();
  });

  it("may not be megabytes of zeros, which would take minutes to read: refused at once", async () => {
    const file = await bundleWith(Buffer.alloc(64 * MIB));

    const rejection = await rejectionOf(listEntries(file, "tar.gz", DEFAULT_BUNDLE_LIMITS));

    expect((await readFile(file)).length).toBeLessThan(128 * 1024);
    expect(rejection).toMatchObject({ code: "CORRUPT_ARCHIVE" });
    expect(rejection.message).toMatch(/bytes of padding after its end/);
  });

  it("may not be data: refused as corrupt", async () => {
    const file = await bundleWith(Buffer.concat([Buffer.alloc(1024), Buffer.from("hidden")]));

    const rejection = await rejectionOf(listEntries(file, "tar.gz", DEFAULT_BUNDLE_LIMITS));

    expect(rejection).toMatchObject({ code: "CORRUPT_ARCHIVE" });
    expect(rejection.message).toMatch(/data after its end-of-archive marker/);
  });
});
