import {
  constants,
  copyFileSync,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DestinationNotEmptyError, extractBundle } from "../../domain/bundles/extract";
import { inspectBundle } from "../../domain/bundles/inspect";
import type { FetchedRevision } from "./deployment-runner";
import type { S3Revision } from "./store";

/**
 * Fetches a deployment's revision from the local S3 and checks it as an upload is checked, so
 * every host gets the same checked bytes. A revision named with its ETag (or version) is the
 * same object each time it is named so: the stages and waves of one release deploy it after one
 * fetch, and it is unpacked once, into a folder each host's DownloadBundle copies.
 */
export class RevisionSource {
  private s3?: S3Client;
  private readonly fetched = new Map<string, Promise<FetchedRevision>>();

  constructor(
    private readonly region: string,
    private readonly credentials: { accessKeyId: string; secretAccessKey: string },
  ) {}

  /** The revision, fetched into `dir` unless the same object was fetched before. */
  fetch(revision: S3Revision, dir: string): Promise<FetchedRevision> {
    const { bucket, key, version, eTag, bundleType } = revision.s3Location;
    if (!version && !eTag) return this.download(revision, dir);
    const id = JSON.stringify([bucket, key, version, eTag?.replaceAll('"', ""), bundleType]);
    let fetched = this.fetched.get(id);
    if (!fetched) {
      fetched = this.download(revision, dir);
      this.fetched.set(id, fetched);
      fetched.catch(() => this.fetched.delete(id));
    }
    return fetched;
  }

  private async download(
    { s3Location: location }: S3Revision,
    dir: string,
  ): Promise<FetchedRevision> {
    if (location.bundleType === "tar") {
      throw new Error("bundleType tar is not supported locally: pack the revision as zip or tgz");
    }
    const format = location.bundleType === "zip" ? "zip" : "tar.gz";
    await mkdir(dir, { recursive: true });
    const archive = path.join(dir, `bundle.${format}`);
    // Made on first use: the stack points AWS_ENDPOINT_URL_S3 at its S3 once every service is up.
    this.s3 ??= new S3Client({
      region: this.region,
      credentials: this.credentials,
      forcePathStyle: true,
      ...(process.env.AWS_ENDPOINT_URL_S3 ? { endpoint: process.env.AWS_ENDPOINT_URL_S3 } : {}),
    });
    const object = await this.s3.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(location.version ? { VersionId: location.version } : {}),
      }),
    );
    const eTag = object.ETag?.replaceAll('"', "");
    if (location.eTag && eTag && location.eTag.replaceAll('"', "") !== eTag) {
      throw new Error(
        `s3://${location.bucket}/${location.key} has ETag ${eTag}, not ${location.eTag}`,
      );
    }
    await pipeline(object.Body as Readable, createWriteStream(archive));
    const { appspec } = await inspectBundle(archive, format);
    let unpacked: Promise<Manifest> | undefined;
    const unpack = () => {
      const folder = path.join(dir, "unpacked");
      unpacked ??= extractBundle(archive, format, folder).then(() => manifest(folder));
      // A failed unpack fails the host that asked; the next one tries again.
      unpacked.catch(() => {
        unpacked = undefined;
      });
      return unpacked;
    };
    return {
      archive,
      format,
      appspec,
      unpackInto: async (destination) => copyTree(await unpack(), destination),
    };
  }

  close(): void {
    this.s3?.destroy();
  }
}

/** An unpacked revision's entries, parents first, listed once for every host to copy. */
interface Manifest {
  folder: string;
  entries: { path: string; kind: "folder" | "link" | "small" | "large"; link?: string }[];
}

/** Files up to this size are copied synchronously: microseconds each from the page cache. */
const SMALL_FILE_BYTES = 64 * 1024;

function manifest(folder: string): Manifest {
  const entries: Manifest["entries"] = [];
  const list = (relative: string) => {
    for (const entry of readdirSync(path.join(folder, relative), { withFileTypes: true })) {
      const file = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        entries.push({ path: file, kind: "folder" });
        list(file);
      } else if (entry.isSymbolicLink()) {
        entries.push({ path: file, kind: "link", link: readlinkSync(path.join(folder, file)) });
      } else {
        const { size } = statSync(path.join(folder, file));
        entries.push({ path: file, kind: size <= SMALL_FILE_BYTES ? "small" : "large" });
      }
    }
  };
  list("");
  return { folder, entries };
}

/**
 * Copies an unpacked revision into a host's empty (or missing) folder for it. Folders, links
 * and small files are made synchronously (see HostFolder: an asynchronous call waits for two
 * turns of a busy machine); large files are copied in parallel off the event loop.
 */
async function copyTree({ folder, entries }: Manifest, to: string): Promise<void> {
  const made = mkdirSync(to, { recursive: true });
  if (!made && readdirSync(to).length > 0) throw new DestinationNotEmptyError(to);
  const large: Promise<void>[] = [];
  try {
    for (const entry of entries) {
      const source = path.join(folder, entry.path);
      const destination = path.join(to, entry.path);
      if (entry.kind === "folder") mkdirSync(destination);
      else if (entry.kind === "link") symlinkSync(entry.link ?? "", destination);
      else if (entry.kind === "small") copyFileSync(source, destination, constants.COPYFILE_EXCL);
      else large.push(copyFile(source, destination, constants.COPYFILE_EXCL));
    }
  } catch (error) {
    await Promise.allSettled(large);
    throw error;
  }
  await Promise.all(large);
}
