import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listEntries, readEntry } from "../../../domain/bundles/archive";
import { DEFAULT_BUNDLE_LIMITS } from "../../../domain/bundles/inspect";
import {
  FORMATS,
  packDirectory,
  rejectionOf,
  useTempDirs,
  writeBundle,
} from "../../support/bundles";

const tempDir = useTempDirs();

describe.each(FORMATS)("reading a %s bundle", (format) => {
  async function packedFolder(): Promise<string> {
    const dir = await tempDir();
    await mkdir(join(dir, "scripts"));
    await writeFile(join(dir, "appspec.yml"), "version: 0.0\nos: linux\n");
    await writeFile(join(dir, "scripts", "start.sh"), "#!/bin/sh\n", { mode: 0o755 });
    await symlink("scripts/start.sh", join(dir, "run"));
    return packDirectory(dir, join(await tempDir(), `bundle.${format}`), format);
  }

  it("lists entries with normalised paths, types, sizes and link targets", async () => {
    // Prepare
    const file = await packedFolder();

    // Act
    const entries = await listEntries(file, format, DEFAULT_BUNDLE_LIMITS);

    // Assess
    const byPath = Object.fromEntries(entries.map((entry) => [entry.path, entry]));
    expect(Object.keys(byPath).sort()).toEqual([
      "appspec.yml",
      "run",
      "scripts",
      "scripts/start.sh",
    ]);
    expect(byPath["appspec.yml"]).toEqual({ path: "appspec.yml", type: "file", size: 23 });
    expect(byPath.scripts?.type).toBe("directory");
    expect(byPath["scripts/start.sh"]).toMatchObject({ type: "file", size: 10 });
    expect(byPath.run).toMatchObject({ type: "symlink", linkTarget: "scripts/start.sh" });
  });

  it("reads one regular file by its listed path", async () => {
    // Prepare
    const file = await packedFolder();

    // Act
    const content = await readEntry(file, format, "scripts/start.sh", 1024);

    // Assess
    expect(content?.toString("utf8")).toBe("#!/bin/sh\n");
  });

  it.each([
    ["a path that is not in the bundle", "missing.txt"],
    ["a folder", "scripts"],
    ["a symlink", "run"],
  ])("reads nothing for %s", async (_, path) => {
    // Prepare
    const file = await packedFolder();

    // Act
    const content = await readEntry(file, format, path, 1024);

    // Assess
    expect(content).toBeNull();
  });

  it("refuses to read a file larger than asked for as TOO_LARGE", async () => {
    // Prepare
    const file = await writeBundle(join(await tempDir(), `b.${format}`), format, [
      { path: "appspec.yml", content: "x".repeat(2048) },
    ]);

    // Act
    const error = await rejectionOf(readEntry(file, format, "appspec.yml", 1024));

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain('"appspec.yml"');
  });
});
