import { createWriteStream } from "node:fs";
import { lstat, mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { create as createTar, Header } from "tar";
import { afterEach } from "vitest";
import { ZipFile } from "yazl";
import { BundleRejectedError } from "../../domain/bundles/rejection";
import type { BundleFormat } from "../../domain/bundles/release-key";

export interface EntrySpec {
  /** Written to the archive byte for byte, unsafe names included. */
  path: string;
  type?: "file" | "directory" | "symlink" | "hardlink";
  content?: string | Buffer;
  mode?: number;
  /** For symlinks and hard links. */
  target?: string;
}

export const FORMATS: readonly BundleFormat[] = ["zip", "tar.gz"];

/** A fresh temporary folder, removed after the current test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-bundles-"));
    made.push(dir);
    return dir;
  };
}

export async function writeBundle(
  file: string,
  format: BundleFormat,
  entries: readonly EntrySpec[],
): Promise<string> {
  await (format === "zip" ? writeZip(file, entries) : writeTarGz(file, entries));
  return file;
}

// yazl refuses (or rewrites) the very names these tests need, so they are written under a
// placeholder of the same byte length and patched in the finished archive.
const NAME_YAZL_REFUSES = /(^|\/)\.\.(\/|$)|^\/|^[A-Za-z]:|\\|\0/;

async function writeZip(file: string, entries: readonly EntrySpec[]): Promise<void> {
  const zip = new ZipFile();
  const patches: { placeholder: Buffer; name: Buffer }[] = [];
  for (const [index, spec] of entries.entries()) {
    let name = spec.path;
    if (NAME_YAZL_REFUSES.test(name)) {
      const length = Buffer.byteLength(name);
      const placeholder = Buffer.alloc(length, 0x01);
      placeholder[0] = 0x02 + index;
      patches.push({ placeholder, name: Buffer.from(name) });
      name = placeholder.toString("latin1");
    }
    const options = { mtime: new Date(0), ...(spec.mode === undefined ? {} : { mode: spec.mode }) };
    switch (spec.type ?? "file") {
      case "directory":
        zip.addEmptyDirectory(name, options);
        break;
      case "symlink":
        zip.addBuffer(Buffer.from(spec.target ?? ""), name, { ...options, mode: 0o120777 });
        break;
      case "hardlink":
        throw new Error("zip has no hard links");
      default:
        zip.addBuffer(Buffer.from(spec.content ?? ""), name, options);
    }
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let bytes: Buffer = Buffer.concat(chunks);
  for (const { placeholder, name } of patches) bytes = replaceAll(bytes, placeholder, name);
  await writeFile(file, bytes);
}

function replaceAll(bytes: Buffer, from: Buffer, to: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, start)) {
    parts.push(bytes.subarray(start, at), to);
    start = at + from.length;
  }
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}

const TAR_TYPES = {
  file: "File",
  directory: "Directory",
  symlink: "SymbolicLink",
  hardlink: "Link",
} as const;

async function writeTarGz(file: string, entries: readonly EntrySpec[]): Promise<void> {
  const blocks: Buffer[] = [];
  for (const spec of entries) {
    const type = spec.type ?? "file";
    const body = type === "file" ? Buffer.from(spec.content ?? "") : Buffer.alloc(0);
    const header = new Header({
      path: spec.path,
      type: TAR_TYPES[type],
      mode: spec.mode ?? (type === "directory" ? 0o755 : 0o644),
      size: body.length,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(spec.target === undefined ? {} : { linkpath: spec.target }),
    });
    if (header.encode() || header.block === undefined) {
      throw new Error(`tar test helper cannot write ${spec.path} without a pax header`);
    }
    blocks.push(header.block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await writeFile(file, gzipSync(Buffer.concat(blocks)));
}

/** Packs a folder's contents the way the docs tell users to (`tar -czf f -C dir .`, or zip). */
export async function packDirectory(
  dir: string,
  file: string,
  format: BundleFormat,
): Promise<string> {
  if (format === "tar.gz") {
    await createTar({ gzip: true, file, cwd: dir, portable: true }, ["."]);
    return file;
  }
  const zip = new ZipFile();
  const names = (await readdir(dir, { recursive: true })).sort();
  for (const name of names) {
    const absolute = join(dir, name);
    const stats = await lstat(absolute);
    if (stats.isDirectory()) zip.addEmptyDirectory(name, { mode: stats.mode });
    else if (stats.isSymbolicLink()) {
      zip.addBuffer(Buffer.from(await readlink(absolute)), name, { mode: stats.mode });
    } else zip.addFile(absolute, name, { mode: stats.mode });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

/** The BundleRejectedError the promise fails with; any other outcome fails the test. */
export async function rejectionOf(promise: Promise<unknown>): Promise<BundleRejectedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BundleRejectedError) return error;
    throw error;
  }
  throw new Error("expected the bundle to be rejected, but it was accepted");
}

export const APPSPEC = `version: 0.0
os: linux
files:
  - source: /
    destination: /srv/app
hooks:
  BeforeInstall:
    - location: scripts/install.sh
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
`;

/** A small bundle that passes inspection; tests add or swap entries to break one rule. */
export function validEntries(): EntrySpec[] {
  return [
    { path: "appspec.yml", content: APPSPEC },
    { path: "scripts/", type: "directory" },
    { path: "scripts/install.sh", content: "#!/bin/sh\nexit 0\n", mode: 0o755 },
    { path: "scripts/start.sh", content: "#!/bin/sh\nexec node server.js\n", mode: 0o755 },
    { path: "server.js", content: "console.log('hello');\n" },
  ];
}
