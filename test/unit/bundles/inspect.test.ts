import { createHash } from "node:crypto";
import { readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEFAULT_BUNDLE_LIMITS, inspectBundle } from "../../../domain/bundles/inspect";
import {
  APPSPEC,
  type EntrySpec,
  FORMATS,
  rejectionOf,
  useTempDirs,
  validEntries,
  writeBundle,
} from "../../support/bundles";

const tempDir = useTempDirs();

describe.each(FORMATS)("inspectBundle on a %s bundle", (format) => {
  async function bundleOf(entries: readonly EntrySpec[]): Promise<string> {
    return writeBundle(join(await tempDir(), `bundle.${format}`), format, entries);
  }

  const withAppSpec = (text: string): EntrySpec[] => [
    { path: "appspec.yml", content: text },
    ...validEntries().filter((entry) => entry.path !== "appspec.yml"),
  ];

  it("accepts a valid bundle and reports its appspec and entry count", async () => {
    // Prepare
    const file = await bundleOf(validEntries());

    // Act
    const inspection = await inspectBundle(file, format);

    // Assess
    expect(inspection.entries).toBe(validEntries().length);
    expect(inspection.appspec.hooks?.ApplicationStart).toEqual([
      { location: "scripts/start.sh", timeout: 60 },
    ]);
    expect(inspection.appspec.hooks?.BeforeInstall).toEqual([
      { location: "scripts/install.sh", timeout: 3600 },
    ]);
  });

  it("accepts a symlink that stays inside the bundle", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "bin/start", type: "symlink", target: "../scripts/start.sh" },
    ]);

    // Act
    const inspection = await inspectBundle(file, format);

    // Assess
    expect(inspection.entries).toBe(validEntries().length + 1);
  });

  it.each([
    ["a parent-folder entry", "../evil.sh"],
    ["a nested parent-folder entry", "scripts/../../evil.sh"],
    ["an absolute path", "/etc/passwd"],
    ["a Windows drive path", "C:/Windows/evil.exe"],
  ])("refuses %s (zip-slip) as UNSAFE_PATH", async (_, path) => {
    // Prepare
    const file = await bundleOf([...validEntries(), { path, content: "#!/bin/sh\nrm -rf /\n" }]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain(JSON.stringify(path));
  });

  it("refuses a symlink to a folder outside the bundle root as UNSAFE_PATH", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "link", type: "symlink", target: "../../etc" },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('symlink "link" -> "../../etc"');
  });

  it("refuses a symlink with an absolute target as UNSAFE_PATH", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "scripts/passwd", type: "symlink", target: "/etc/passwd" },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain("absolute");
  });

  it("refuses a symlink that escapes only through another symlink", async () => {
    // Prepare: "up" points at the root, so "escape" -> "sub/up/.." is the root's parent,
    // even though the text "sub/up/.." looks like it stays inside.
    const file = await bundleOf([
      ...validEntries(),
      { path: "sub/", type: "directory" },
      { path: "sub/up", type: "symlink", target: ".." },
      { path: "escape", type: "symlink", target: "sub/up/.." },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('"escape"');
  });

  it("refuses an entry stored beneath a symlink", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "conf", type: "symlink", target: "scripts" },
      { path: "conf/extra.sh", content: "echo\n" },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('"conf/extra.sh" lies beneath symlink "conf"');
  });

  it("refuses an entry stored beneath a regular file", async () => {
    // Prepare
    const file = await bundleOf([...validEntries(), { path: "server.js/inner", content: "x" }]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('"server.js/inner" lies beneath file "server.js"');
  });

  it("refuses an entry that appears twice", async () => {
    // Prepare
    const file = await bundleOf([...validEntries(), { path: "server.js", content: "evil()\n" }]);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('"server.js" appears more than once');
  });

  it("refuses a bundle without appspec.yml as NO_APPSPEC", async () => {
    // Prepare
    const file = await bundleOf(validEntries().filter((entry) => entry.path !== "appspec.yml"));

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("NO_APPSPEC");
    expect(error.message).toContain("appspec.yml");
  });

  it("refuses an appspec.yml inside a top-level folder, saying it must be at the root", async () => {
    // Prepare
    const nested = validEntries().map((entry) => ({ ...entry, path: `hello/${entry.path}` }));
    const file = await bundleOf(nested);

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("NO_APPSPEC");
    expect(error.message).toContain("root");
    expect(error.message).toContain('"hello/appspec.yml"');
  });

  it("refuses an appspec with an unknown hook as INVALID_APPSPEC", async () => {
    // Prepare
    const file = await bundleOf(
      withAppSpec(`${APPSPEC}  AfterDeploy:\n    - location: scripts/start.sh\n`),
    );

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain('unknown hook "AfterDeploy"');
    expect(error.message).toContain("ValidateService");
  });

  it("refuses a hook whose script is missing as MISSING_HOOK_SCRIPT, naming hook and path", async () => {
    // Prepare
    const file = await bundleOf(
      withAppSpec(`${APPSPEC}  ValidateService:\n    - location: scripts/validate.sh\n`),
    );

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("MISSING_HOOK_SCRIPT");
    expect(error.message).toContain("ValidateService");
    expect(error.message).toContain('"scripts/validate.sh"');
  });

  it("refuses a hook whose location is a folder as MISSING_HOOK_SCRIPT", async () => {
    // Prepare
    const file = await bundleOf(
      withAppSpec(`${APPSPEC}  AfterInstall:\n    - location: scripts\n`),
    );

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("MISSING_HOOK_SCRIPT");
    expect(error.message).toContain("AfterInstall");
    expect(error.message).toContain("directory");
  });

  it("accepts hook locations and file sources written from the root with a leading slash", async () => {
    // Prepare
    const text = APPSPEC.replace(
      "location: scripts/start.sh",
      "location: /scripts/start.sh",
    ).replace("source: /", "source: /scripts");
    const file = await bundleOf(withAppSpec(text));

    // Act
    const inspection = await inspectBundle(file, format);

    // Assess
    expect(inspection.appspec.files).toEqual([{ source: "/scripts", destination: "/srv/app" }]);
  });

  it.each([
    ["a parent folder", "../start.sh", 'climbs out of the bundle root with ".."'],
    ["a nested parent folder", "scripts/../../start.sh", 'climbs out of the bundle root with ".."'],
    ["a backslash", "scripts\\start.sh", "backslash"],
    ["an empty segment", "scripts//start.sh", "not a normalised path"],
  ])(
    "refuses a hook location with %s as UNSAFE_PATH, naming hook and location",
    async (_, location, reason) => {
      // Prepare
      const text = APPSPEC.replace("location: scripts/start.sh", `location: '${location}'`);
      const file = await bundleOf(withAppSpec(text));

      // Act
      const error = await rejectionOf(inspectBundle(file, format));

      // Assess
      expect(error.code).toBe("UNSAFE_PATH");
      expect(error.message).toContain(
        `hook ApplicationStart runs ${JSON.stringify(location)}, which`,
      );
      expect(error.message).toContain(reason);
    },
  );

  it("accepts a hook location written with a leading ./", async () => {
    // Prepare
    const text = APPSPEC.replace("location: scripts/start.sh", "location: ./scripts/start.sh");
    const file = await bundleOf(withAppSpec(text));

    // Act
    const inspection = await inspectBundle(file, format);

    // Assess
    expect(inspection.appspec.hooks?.ApplicationStart).toEqual([
      { location: "./scripts/start.sh", timeout: 60 },
    ]);
  });

  it("refuses a hook location naming the bundle root as MISSING_HOOK_SCRIPT", async () => {
    // Prepare
    const text = APPSPEC.replace("location: scripts/start.sh", "location: ./");
    const file = await bundleOf(withAppSpec(text));

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("MISSING_HOOK_SCRIPT");
    expect(error.message).toContain('hook ApplicationStart runs "./", which is the bundle root');
  });

  it("refuses a files source that is not in the bundle as INVALID_APPSPEC", async () => {
    // Prepare
    const file = await bundleOf(withAppSpec(APPSPEC.replace("source: /", "source: dist")));

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain('files[0].source "dist"');
  });

  it("refuses a bundle over maxBundleBytes as TOO_LARGE before reading it", async () => {
    // Prepare
    const file = await bundleOf(validEntries());
    const { size } = await stat(file);

    // Act
    const error = await rejectionOf(
      inspectBundle(file, format, { ...DEFAULT_BUNDLE_LIMITS, maxBundleBytes: size - 1 }),
    );

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("maxBundleBytes");
  });

  it("refuses a small bundle that unpacks past maxUnpackedBytes (zip bomb) as TOO_LARGE", async () => {
    // Prepare
    const limits = { ...DEFAULT_BUNDLE_LIMITS, maxUnpackedBytes: 256 * 1024 };
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    const file = await bundleOf([...validEntries(), { path: "zeros.bin", content: zeros }]);
    const { size } = await stat(file);

    // Act
    const error = await rejectionOf(inspectBundle(file, format, limits));

    // Assess
    expect(size).toBeLessThan(limits.maxUnpackedBytes);
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("maxUnpackedBytes");
    expect(error.message).toContain('"zeros.bin"');
  });

  it("refuses a bundle with more than maxEntries entries as TOO_LARGE", async () => {
    // Prepare
    const many = Array.from({ length: 20 }, (_, index) => ({ path: `static/${index}.txt` }));
    const file = await bundleOf([...validEntries(), ...many]);

    // Act
    const error = await rejectionOf(
      inspectBundle(file, format, { ...DEFAULT_BUNDLE_LIMITS, maxEntries: 10 }),
    );

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toContain("maxEntries");
  });

  it("refuses a truncated bundle as CORRUPT_ARCHIVE", async () => {
    // Prepare
    const file = await bundleOf([
      ...validEntries(),
      { path: "data.bin", content: createHash("sha512").update("x").digest().toString("hex") },
    ]);
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("CORRUPT_ARCHIVE");
  });

  it("refuses bytes that are not an archive at all as CORRUPT_ARCHIVE", async () => {
    // Prepare
    const file = join(await tempDir(), `garbage.${format}`);
    await writeFile(file, "this is not an archive\n".repeat(40));

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("CORRUPT_ARCHIVE");
    expect(error.message).toContain("signature");
  });

  it("refuses the other archive format under this name as UNSUPPORTED_FORMAT", async () => {
    // Prepare
    const other = format === "zip" ? "tar.gz" : "zip";
    const file = await writeBundle(join(await tempDir(), `b.${format}`), other, validEntries());

    // Act
    const error = await rejectionOf(inspectBundle(file, format));

    // Assess
    expect(error.code).toBe("UNSUPPORTED_FORMAT");
    expect(error.message).toContain(`.${format}`);
  });
});

describe("inspectBundle, rules that only one format can break", () => {
  it.each([
    ["a backslash path", "scripts\\..\\..\\evil.sh", "backslash"],
    ["a NUL byte", "server.js\0.png", "NUL"],
  ])("refuses a zip entry with %s as UNSAFE_PATH", async (_, path, reason) => {
    // Prepare
    const file = await writeBundle(join(await tempDir(), "b.zip"), "zip", [
      ...validEntries(),
      { path, content: "x" },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, "zip"));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain(reason);
  });

  it("refuses a zip whose file data was damaged after packing as CORRUPT_ARCHIVE", async () => {
    // Prepare: digests do not compress, so their bytes appear as they are inside the archive.
    const noise = Buffer.concat(
      Array.from({ length: 16 }, (_, index) => createHash("sha512").update(String(index)).digest()),
    );
    const file = await writeBundle(join(await tempDir(), "b.zip"), "zip", [
      ...validEntries(),
      { path: "noise.bin", content: noise },
    ]);
    const bytes = await readFile(file);
    const at = bytes.indexOf(noise.subarray(500, 532));
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(file, bytes);

    // Act
    const error = await rejectionOf(inspectBundle(file, "zip"));

    // Assess
    expect(at).toBeGreaterThan(0);
    expect(error.code).toBe("CORRUPT_ARCHIVE");
    expect(error.message).toContain('"noise.bin"');
  });

  it("refuses a tar hard link as UNSAFE_PATH", async () => {
    // Prepare
    const file = await writeBundle(join(await tempDir(), "b.tar.gz"), "tar.gz", [
      ...validEntries(),
      { path: "shadow", type: "hardlink", target: "/etc/shadow" },
    ]);

    // Act
    const error = await rejectionOf(inspectBundle(file, "tar.gz"));

    // Assess
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toContain('"shadow"');
  });

  it("refuses an uncompressed tar as UNSUPPORTED_FORMAT, saying what it is", async () => {
    // Prepare
    const dir = await tempDir();
    const gzipped = await writeBundle(join(dir, "b.tar.gz"), "tar.gz", validEntries());
    const plain = join(dir, "plain.tar.gz");
    await writeFile(plain, gunzipSync(await readFile(gzipped)));

    // Act
    const error = await rejectionOf(inspectBundle(plain, "tar.gz"));

    // Assess
    expect(error.code).toBe("UNSUPPORTED_FORMAT");
    expect(error.message).toContain("uncompressed tar");
  });
});
