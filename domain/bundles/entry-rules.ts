import type { ArchiveEntry } from "./archive";
import type { BundleLimits } from "./limits";
import { BundleRejectedError } from "./rejection";

/** PATH_MAX on Linux: a longer symlink target cannot be created anyway. */
export const MAX_LINK_TARGET_BYTES = 4096;
// Linux gives up on symlink chains after 40 hops (ELOOP); so do we.
const MAX_LINK_HOPS = 40;

/** An entry as a reader found it, before any rule was applied. */
export interface RawEntry {
  rawPath: string;
  type: ArchiveEntry["type"];
  size: number;
  linkTarget?: string;
}

function unsafe(message: string): BundleRejectedError {
  return new BundleRejectedError("UNSAFE_PATH", message);
}

const quote = (text: string): string => JSON.stringify(text);

/**
 * The entry's path relative to the bundle root, or null for the root itself.
 * Accepts the `./` prefix and the trailing `/` of directories that `tar -C dir .` writes;
 * anything that could land outside the destination (zip-slip) is refused.
 */
export function normaliseEntryPath(rawPath: string): string | null {
  const shown = quote(rawPath);
  if (rawPath.includes("\0")) throw unsafe(`entry ${shown} contains a NUL byte`);
  if (rawPath.includes("\\")) {
    throw unsafe(`entry ${shown} contains a backslash; use "/" to separate folders`);
  }
  if (rawPath.startsWith("/") || /^[A-Za-z]:/.test(rawPath)) {
    throw unsafe(`entry ${shown} is an absolute path; entries must be relative to the bundle root`);
  }
  const relative = rawPath.replace(/^\.\//, "").replace(/\/$/, "");
  if (relative === "" || relative === ".") return null;
  for (const segment of relative.split("/")) {
    if (segment === "..") throw unsafe(`entry ${shown} climbs out of the bundle root with ".."`);
    if (segment === "" || segment === ".") {
      throw unsafe(`entry ${shown} is not a normalised path (empty or "." segment)`);
    }
  }
  return relative;
}

/**
 * Applies the per-entry rules while an archive is being read, so that reading stops at the
 * first unsafe entry or as soon as a limit is passed (a bomb is never fully inflated).
 */
export class EntryCollector {
  readonly #limits: BundleLimits;
  readonly #entries = new Map<string, ArchiveEntry>();
  #unpackedBytes = 0;

  constructor(limits: BundleLimits) {
    this.#limits = limits;
  }

  add(raw: RawEntry): void {
    const path = normaliseEntryPath(raw.rawPath);
    if (path === null) return;
    if (raw.type === "other") {
      throw unsafe(
        `entry ${quote(raw.rawPath)} is a hard link, device or pipe; bundles may hold only regular files, directories and symlinks`,
      );
    }
    if (this.#entries.has(path)) {
      throw unsafe(`entry ${quote(path)} appears more than once; its content would be ambiguous`);
    }
    const entry: ArchiveEntry = { path, type: raw.type, size: raw.size };
    if (raw.linkTarget !== undefined) entry.linkTarget = raw.linkTarget;
    this.#entries.set(path, entry);
    this.#unpackedBytes += raw.size;
    if (this.#entries.size > this.#limits.maxEntries) {
      throw new BundleRejectedError(
        "TOO_LARGE",
        `bundle holds more than ${this.#limits.maxEntries} entries (maxEntries); stopped at ${quote(path)}`,
      );
    }
    if (this.#unpackedBytes > this.#limits.maxUnpackedBytes) {
      throw new BundleRejectedError(
        "TOO_LARGE",
        `bundle unpacks to more than ${this.#limits.maxUnpackedBytes} bytes (maxUnpackedBytes); stopped at ${quote(path)} (${raw.size} bytes)`,
      );
    }
  }

  /** All entries, once the rules that need the whole listing have been applied. */
  finish(): ArchiveEntry[] {
    const entries = [...this.#entries.values()];
    checkAncestors(this.#entries);
    checkLinks(entries);
    return entries;
  }
}

/**
 * Only folders may hold entries. Refused for symlinks so that an unpacker never writes through
 * a link, whatever order it meets the entries in.
 */
function checkAncestors(byPath: ReadonlyMap<string, ArchiveEntry>): void {
  for (const { path } of byPath.values()) {
    const segments = path.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const ancestor = byPath.get(segments.slice(0, depth).join("/"));
      if (ancestor !== undefined && ancestor.type !== "directory") {
        throw unsafe(`entry ${quote(path)} lies beneath ${ancestor.type} ${quote(ancestor.path)}`);
      }
    }
  }
}

function checkLinks(entries: readonly ArchiveEntry[]): void {
  const links = new Map<string, string>();
  for (const entry of entries) {
    if (entry.type === "symlink") links.set(entry.path, entry.linkTarget ?? "");
  }
  for (const [path, target] of links) {
    const shown = `symlink ${quote(path)} -> ${quote(target)}`;
    if (target === "") throw unsafe(`${shown} has an empty target`);
    if (target.startsWith("/")) throw unsafe(`${shown} points to an absolute path`);
    if (/[\0\\]/.test(target)) throw unsafe(`${shown} contains a NUL byte or a backslash`);
    if (!linkStaysInside(path, target, links)) {
      throw unsafe(`${shown} resolves outside the bundle root`);
    }
  }
}

/** Resolves the target the way the kernel would, following the bundle's other symlinks. */
function linkStaysInside(linkPath: string, target: string, links: Map<string, string>): boolean {
  const resolved = linkPath.split("/").slice(0, -1);
  const pending = splitTarget(target);
  if (pending === null) return false;
  let hops = 0;
  for (let segment = pending.shift(); segment !== undefined; segment = pending.shift()) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (resolved.length === 0) return false;
      resolved.pop();
      continue;
    }
    resolved.push(segment);
    const next = links.get(resolved.join("/"));
    if (next === undefined) continue;
    hops += 1;
    const nextSegments = splitTarget(next);
    if (hops > MAX_LINK_HOPS || nextSegments === null) return false;
    resolved.pop();
    pending.unshift(...nextSegments);
  }
  return true;
}

function splitTarget(target: string): string[] | null {
  if (target === "" || target.startsWith("/") || /[\0\\]/.test(target)) return null;
  return target.split("/");
}

/** The path an entry would be listed under, for lookups that must not throw on other entries. */
export function entryLookupPath(rawPath: string): string {
  return rawPath.replace(/^\.\//, "").replace(/\/$/, "");
}
