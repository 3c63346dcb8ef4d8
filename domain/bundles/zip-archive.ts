import { createWriteStream } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import type { ArchiveEntry } from "./archive";
import {
  entryLookupPath,
  MAX_LINK_TARGET_BYTES,
  normaliseEntryPath,
  type RawEntry,
} from "./entry-rules";
import { BundleRejectedError } from "./rejection";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

// Names are decoded by us so that yauzl's own name check does not turn zip-slip entries into
// generic errors; strict names keep backslashes visible to the path rules.
const OPEN_OPTIONS = { decodeStrings: false, validateEntrySizes: true, strictFileNames: true };

function corrupt(error: unknown): BundleRejectedError {
  if (error instanceof BundleRejectedError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new BundleRejectedError("CORRUPT_ARCHIVE", `zip archive is corrupt: ${reason}`, {
    cause: error,
  });
}

async function asCorrupt<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw corrupt(error);
  }
}

type Visit = (entry: Entry, name: string, zip: ZipFile) => Promise<"stop" | undefined>;

async function walkZip(filePath: string, visit: Visit): Promise<void> {
  const zip = await asCorrupt(yauzl.openPromise(filePath, OPEN_OPTIONS));
  const iterator = zip.eachEntry();
  try {
    for (;;) {
      const next = await asCorrupt(iterator.next());
      if (next.done) return;
      const entry = next.value;
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      if ((await visit(entry, name, zip)) === "stop") return;
    }
  } finally {
    await iterator.return?.();
    zip.close();
  }
}

function entryType(entry: Entry, name: string): ArchiveEntry["type"] {
  const kind = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (kind === S_IFLNK) return "symlink";
  if (name.endsWith("/") || kind === S_IFDIR) return "directory";
  if (kind === 0 || kind === S_IFREG) return "file";
  return "other";
}

/** Without setuid, setgid and sticky bits: a bundle must not ship a setuid-root file. */
function permissions(entry: Entry): number {
  return (entry.externalFileAttributes >>> 16) & 0o777;
}

function assertDecodable(entry: Entry, name: string): void {
  if (entry.isEncrypted() || !entry.canDecodeFileData()) {
    throw new BundleRejectedError(
      "UNSUPPORTED_FORMAT",
      `zip entry ${JSON.stringify(name)} is encrypted or uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported`,
    );
  }
}

/** Errors of the entry's data (bad deflate stream, wrong size) are the archive's fault. */
async function openData(zip: ZipFile, entry: Entry, name: string): Promise<Readable> {
  assertDecodable(entry, name);
  const source = await asCorrupt(zip.openReadStreamPromise(entry));
  const tagged = new PassThrough();
  source.on("error", (error) => tagged.destroy(corrupt(error)));
  return source.pipe(tagged);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Also reads every file's data once, so that a damaged entry is found when the bundle is
 * recorded, not when it is deployed: zip keeps a CRC-32 per entry and the central directory
 * alone says nothing about the data.
 */
export async function listZipEntries(
  filePath: string,
  add: (entry: RawEntry) => void,
): Promise<void> {
  await walkZip(filePath, async (entry, name, zip) => {
    const type = entryType(entry, name);
    const raw: RawEntry = { rawPath: name, type, size: entry.uncompressedSize };
    if (type === "symlink") {
      if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
        throw new BundleRejectedError(
          "UNSAFE_PATH",
          `symlink ${JSON.stringify(name)} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`,
        );
      }
      raw.linkTarget = (await readAll(await openData(zip, entry, name))).toString("utf8");
    }
    add(raw);
    if (type === "file") await verifyChecksum(zip, entry, name);
    return undefined;
  });
}

async function verifyChecksum(zip: ZipFile, entry: Entry, name: string): Promise<void> {
  let checksum = 0;
  for await (const chunk of await openData(zip, entry, name)) {
    checksum = crc32(chunk as Buffer, checksum);
  }
  if (checksum !== entry.crc32) {
    throw new BundleRejectedError(
      "CORRUPT_ARCHIVE",
      `zip entry ${JSON.stringify(name)} is damaged: its data fails the CRC-32 check`,
    );
  }
}

export async function readZipEntry(
  filePath: string,
  path: string,
  maxBytes: number,
): Promise<Buffer | null> {
  let content: Buffer | null = null;
  await walkZip(filePath, async (entry, name, zip) => {
    if (entryLookupPath(name) !== path || entryType(entry, name) !== "file") return undefined;
    if (entry.uncompressedSize > maxBytes) {
      throw new BundleRejectedError(
        "TOO_LARGE",
        `entry ${JSON.stringify(path)} is ${entry.uncompressedSize} bytes, over the ${maxBytes} bytes allowed`,
      );
    }
    content = await readAll(await openData(zip, entry, name));
    return "stop";
  });
  return content;
}

/**
 * Writes every listed entry under destDir. Symlinks are created last so that no file is ever
 * written through one; files are opened with O_EXCL so nothing already there is overwritten.
 */
export async function extractZip(
  filePath: string,
  destDir: string,
  listed: ReadonlyMap<string, ArchiveEntry>,
): Promise<void> {
  const links: ArchiveEntry[] = [];
  await walkZip(filePath, async (entry, name, zip) => {
    const path = normaliseEntryPath(name);
    if (path === null) return undefined;
    const expected = listed.get(path);
    if (expected === undefined || expected.type !== entryType(entry, name)) {
      throw new BundleRejectedError(
        "CORRUPT_ARCHIVE",
        `zip entry ${JSON.stringify(path)} changed between listing and unpacking`,
      );
    }
    const target = join(destDir, path);
    if (expected.type === "directory") {
      // Owner keeps write access, or the folder's own entries could not be written into it.
      await mkdir(target, { recursive: true, mode: (permissions(entry) || 0o755) | 0o700 });
    } else if (expected.type === "file") {
      await mkdir(dirname(target), { recursive: true });
      const data = await openData(zip, entry, name);
      const mode = permissions(entry) || 0o644;
      await pipeline(data, createWriteStream(target, { flags: "wx", mode }));
    } else {
      links.push(expected);
    }
    return undefined;
  });
  for (const link of links) {
    const target = join(destDir, link.path);
    await mkdir(dirname(target), { recursive: true });
    await symlink(link.linkTarget ?? "", target);
  }
}
