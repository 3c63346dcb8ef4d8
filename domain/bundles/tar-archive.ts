import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { extract as untar } from "tar/extract";
import { Parser } from "tar/parse";
import type { ReadEntry } from "tar/read-entry";
import type { ArchiveEntry } from "./archive";
import { entryLookupPath, type RawEntry } from "./entry-rules";
import { BundleRejectedError } from "./rejection";
import { TarEndGuard } from "./tar-end-guard";

const PERMISSION_BITS = 0o777;

function entryType(entry: ReadEntry): ArchiveEntry["type"] {
  switch (entry.type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
      return "file";
    case "Directory":
      return "directory";
    case "SymbolicLink":
      return "symlink";
    default:
      return "other";
  }
}

function corrupt(error: unknown): BundleRejectedError {
  if (error instanceof BundleRejectedError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new BundleRejectedError("CORRUPT_ARCHIVE", `tar.gz archive is corrupt: ${reason}`, {
    cause: error,
  });
}

type Finish = (error?: unknown) => void;

/**
 * The archive's tar stream: inflated here rather than by tar (whose ratio guard would refuse a
 * highly compressible but legitimate bundle; entry sizes are checked on each header instead),
 * and cut at its end-of-archive marker.
 */
function tarStream(filePath: string): { stream: TarEndGuard; destroy(): void } {
  const source = createReadStream(filePath);
  const gunzip = createGunzip();
  const guard = new TarEndGuard();
  source.on("error", (error: Error) => guard.destroy(error));
  gunzip.on("error", (error: Error) => guard.destroy(error));
  source.pipe(gunzip).pipe(guard);
  return {
    stream: guard,
    destroy: () => {
      for (const stream of [source, gunzip, guard]) stream.destroy();
    },
  };
}

/** Streams the entries to onEntry, which must consume or resume each one, or call finish. */
function scanTar(filePath: string, onEntry: (entry: ReadEntry, finish: Finish) => void) {
  return new Promise<void>((resolve, reject) => {
    const tar = tarStream(filePath);
    let settled = false;
    const finish: Finish = (error) => {
      if (settled) return;
      settled = true;
      tar.destroy();
      if (error === undefined) resolve();
      else reject(corrupt(error));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        if (settled) entry.resume();
        else onEntry(entry, finish);
      },
    });
    parser.on("error", finish);
    parser.on("end", () => finish());
    tar.stream.on("error", finish);
    tar.stream.pipe(parser);
  });
}

export function listTarEntries(filePath: string, add: (entry: RawEntry) => void): Promise<void> {
  return scanTar(filePath, (entry, finish) => {
    const raw: RawEntry = { rawPath: entry.path, type: entryType(entry), size: entry.size };
    if (entry.linkpath !== undefined) raw.linkTarget = entry.linkpath;
    try {
      add(raw);
    } catch (error) {
      finish(error);
    }
    entry.resume();
  });
}

export async function readTarEntry(
  filePath: string,
  path: string,
  maxBytes: number,
): Promise<Buffer | null> {
  let content: Buffer | null = null;
  await scanTar(filePath, (entry, finish) => {
    if (entryLookupPath(entry.path) !== path || entryType(entry) !== "file") {
      entry.resume();
      return;
    }
    if (entry.size > maxBytes) {
      entry.resume();
      finish(
        new BundleRejectedError(
          "TOO_LARGE",
          `entry ${JSON.stringify(path)} is ${entry.size} bytes, over the ${maxBytes} bytes allowed`,
        ),
      );
      return;
    }
    const chunks: Buffer[] = [];
    entry.on("data", (chunk: Buffer) => chunks.push(chunk));
    entry.on("end", () => {
      content = Buffer.concat(chunks);
      finish();
    });
  });
  return content;
}

/**
 * Unpacks only the entries the listing accepted. tar itself also refuses `..`, absolute paths
 * and writing through symlinks. Owners are not taken from the archive even when run as root,
 * and setuid, setgid and sticky bits are dropped: a bundle must not ship a setuid-root file.
 */
export function extractTar(
  filePath: string,
  destDir: string,
  listed: ReadonlyMap<string, ArchiveEntry>,
): Promise<void> {
  const unpack = untar({
    cwd: destDir,
    strict: true,
    preserveOwner: false,
    filter: (path) => listed.has(entryLookupPath(path)),
    onReadEntry: (entry) => {
      if (entry.mode !== undefined) entry.mode &= PERMISSION_BITS;
    },
  });
  return new Promise((resolve, reject) => {
    const tar = tarStream(filePath);
    const fail = (error: unknown) => {
      tar.destroy();
      reject(corrupt(error));
    };
    tar.stream.on("error", fail);
    unpack.on("error", fail);
    unpack.on("close", resolve);
    tar.stream.pipe(unpack);
  });
}
