import { lstat, readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DestinationNotEmptyError, extractBundle } from "../../../domain/bundles/extract";
import { DEFAULT_BUNDLE_LIMITS } from "../../../domain/bundles/inspect";
import {
  FORMATS,
  rejectionOf,
  useTempDirs,
  validEntries,
  writeBundle,
} from "../../support/bundles";

const tempDir = useTempDirs();

describe.each(FORMATS)("extractBundle from a %s bundle", (format) => {
  async function bundleOf(entries: Parameters<typeof writeBundle>[2]): Promise<string> {
    return writeBundle(join(await tempDir(), `bundle.${format}`), format, entries);
  }

  it("writes every file with its content, keeps scripts executable and recreates symlinks", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "static/css/site.css", content: "body {}\n" },
      { path: "bin/start", type: "symlink", target: "../scripts/start.sh" },
    ]);
    const dest = join(await tempDir(), "revision");

    // Act
    await extractBundle(file, format, dest);

    // Assess
    for (const entry of validEntries().filter((spec) => spec.content !== undefined)) {
      expect(await readFile(join(dest, entry.path), "utf8")).toBe(entry.content);
    }
    expect(await readFile(join(dest, "static/css/site.css"), "utf8")).toBe("body {}\n");
    expect((await stat(join(dest, "scripts/start.sh"))).mode & 0o111).not.toBe(0);
    expect((await stat(join(dest, "server.js"))).mode & 0o111).toBe(0);
    expect((await lstat(join(dest, "bin/start"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dest, "bin/start"))).toBe("../scripts/start.sh");
  });

  it("drops setuid and setgid bits", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "bin/escalate", content: "#!/bin/sh\nid\n", mode: 0o6755 },
    ]);
    const dest = join(await tempDir(), "revision");

    // Act
    await extractBundle(file, format, dest);

    // Assess
    expect((await stat(join(dest, "bin/escalate"))).mode & 0o7777).toBe(0o755);
  });

  it("refuses a folder that already holds something", async () => {
    // Prepare
    const file = await bundleOf(validEntries());
    const dest = await tempDir();
    await writeFile(join(dest, "previous.txt"), "keep me\n");

    // Act
    const outcome = extractBundle(file, format, dest);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(DestinationNotEmptyError);
    expect(await readdir(dest)).toEqual(["previous.txt"]);
  });

  it("applies the zip-slip rules itself and writes nothing", async () => {
    // Prepare
    const root = await tempDir();
    const file = await bundleOf([...validEntries(), { path: "../evil.sh", content: "pwned\n" }]);
    const dest = join(root, "revision");

    // Act
    const error = await rejectionOf(extractBundle(file, format, dest));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(await readdir(root)).toEqual(["revision"]);
    expect(await readdir(dest)).toEqual([]);
  });

  it("applies the symlink rules itself and writes nothing", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "link", type: "symlink", target: "../../etc" },
    ]);
    const dest = join(await tempDir(), "revision");

    // Act
    const error = await rejectionOf(extractBundle(file, format, dest));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(await readdir(dest)).toEqual([]);
  });

  it("applies the size limits itself and writes nothing", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "zeros.bin", content: Buffer.alloc(1 << 20) },
    ]);
    const dest = join(await tempDir(), "revision");
    const limits = { ...DEFAULT_BUNDLE_LIMITS, maxUnpackedBytes: 64 * 1024 };

    // Act
    const error = await rejectionOf(extractBundle(file, format, dest, limits));

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(await readdir(dest)).toEqual([]);
  });
});
