import { open, stat } from "node:fs/promises";
import { EntryCollector } from "./entry-rules";
import type { BundleLimits } from "./limits";
import { BundleRejectedError } from "./rejection";
import type { BundleFormat } from "./release-key";
import { listTarEntries, readTarEntry } from "./tar-archive";
import { listZipEntries, readZipEntry } from "./zip-archive";

export interface ArchiveEntry {
  /** Relative to the bundle root, normalised: no `./` prefix, no trailing `/`. */
  path: string;
  type: "file" | "directory" | "symlink" | "other";
  /** Unpacked size in bytes. */
  size: number;
  linkTarget?: string;
}

/**
 * Every entry of the bundle, without unpacking it. Refuses (BundleRejectedError) a bundle over
 * maxBundleBytes before reading it, a content that is not the named format, unsafe paths and
 * symlinks, and stops reading as soon as maxEntries or maxUnpackedBytes is passed.
 */
export async function listEntries(
  filePath: string,
  format: BundleFormat,
  limits: BundleLimits,
): Promise<ArchiveEntry[]> {
  const { size } = await stat(filePath);
  if (size > limits.maxBundleBytes) {
    throw new BundleRejectedError(
      "TOO_LARGE",
      `bundle is ${size} bytes, over the limit of ${limits.maxBundleBytes} bytes (maxBundleBytes)`,
    );
  }
  await assertFormat(filePath, format);
  const collector = new EntryCollector(limits);
  const add = collector.add.bind(collector);
  await (format === "zip" ? listZipEntries(filePath, add) : listTarEntries(filePath, add));
  return collector.finish();
}

/**
 * The content of the regular file at `path` (as listEntries names it), or null when the
 * bundle has no regular file there. A file over maxBytes is refused as TOO_LARGE.
 */
export async function readEntry(
  filePath: string,
  format: BundleFormat,
  path: string,
  maxBytes: number,
): Promise<Buffer | null> {
  await assertFormat(filePath, format);
  return format === "zip"
    ? readZipEntry(filePath, path, maxBytes)
    : readTarEntry(filePath, path, maxBytes);
}

interface Signature {
  name: string;
  offset: number;
  bytes: readonly number[];
}

const ZIP_SIGNATURES: readonly Signature[] = [
  { name: "zip archive", offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: "empty zip archive", offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
];
const GZIP_SIGNATURE: Signature = { name: "gzip file", offset: 0, bytes: [0x1f, 0x8b] };

// Recognised only to tell the uploader what they sent instead of calling it corrupt.
const OTHER_SIGNATURES: readonly Signature[] = [
  { name: "uncompressed tar archive", offset: 257, bytes: [...Buffer.from("ustar")] },
  { name: "bzip2 file", offset: 0, bytes: [...Buffer.from("BZh")] },
  { name: "xz file", offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "zstd file", offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: "7z archive", offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: "rar archive", offset: 0, bytes: [...Buffer.from("Rar!")] },
];

const matches = (head: Buffer, { offset, bytes }: Signature): boolean =>
  bytes.every((byte, index) => head[offset + index] === byte);

async function assertFormat(filePath: string, format: BundleFormat): Promise<void> {
  const head = await readHead(filePath, 512);
  const expected = format === "zip" ? ZIP_SIGNATURES : [GZIP_SIGNATURE];
  if (expected.some((signature) => matches(head, signature))) return;
  const other =
    format === "zip"
      ? [GZIP_SIGNATURE, ...OTHER_SIGNATURES]
      : [...ZIP_SIGNATURES, ...OTHER_SIGNATURES];
  const found = other.find((signature) => matches(head, signature));
  if (found) {
    throw new BundleRejectedError(
      "UNSUPPORTED_FORMAT",
      `bundle named .${format} is a ${found.name}; upload a zip as .zip or a gzip-compressed tar as .tar.gz`,
    );
  }
  throw new BundleRejectedError(
    "CORRUPT_ARCHIVE",
    head.length === 0
      ? "bundle is an empty file"
      : `bundle named .${format} does not start with the ${format === "zip" ? "zip" : "gzip"} signature`,
  );
}

async function readHead(filePath: string, length: number): Promise<Buffer> {
  const handle = await open(filePath, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
