import { APPSPEC_FILE, type AppSpec, HOOK_NAMES, type HookName, parseAppSpec } from "./appspec";
import { type ArchiveEntry, listEntries, readEntry } from "./archive";
import { normaliseEntryPath } from "./entry-rules";
import { type BundleLimits, DEFAULT_BUNDLE_LIMITS } from "./limits";
import { BundleRejectedError } from "./rejection";
import type { BundleFormat } from "./release-key";

export { type BundleLimits, DEFAULT_BUNDLE_LIMITS } from "./limits";

/** An appspec is a page of YAML; anything near this size is not one. */
const MAX_APPSPEC_BYTES = 1024 * 1024;

/**
 * What a bundle holds. Its size and digest are not here: the download that wrote the file
 * counted and hashed its bytes as they came, and reading it again for them cost a second pass
 * over bundles of up to maxBundleBytes.
 */
export interface BundleInspection {
  appspec: AppSpec;
  entries: number;
}

/**
 * Decides whether a release bundle can be recorded as a revision: safe to unpack, within the
 * limits, with a valid `appspec.yml` at its root whose hook scripts and file sources exist.
 * Throws BundleRejectedError at the first problem.
 */
export async function inspectBundle(
  filePath: string,
  format: BundleFormat,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<BundleInspection> {
  const entries = await listEntries(filePath, format, limits);
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  assertAppSpecAtRoot(byPath);
  const text = await readEntry(filePath, format, APPSPEC_FILE, MAX_APPSPEC_BYTES);
  if (text === null) {
    throw new BundleRejectedError("NO_APPSPEC", `bundle has no regular file ${APPSPEC_FILE}`);
  }
  const appspec = parseAppSpec(text.toString("utf8"));
  assertHookScriptsExist(appspec, byPath);
  assertFileSourcesExist(appspec, entries);
  return { appspec, entries: entries.length };
}

function assertAppSpecAtRoot(byPath: ReadonlyMap<string, ArchiveEntry>): void {
  const appspec = byPath.get(APPSPEC_FILE);
  if (appspec?.type === "file") return;
  if (appspec !== undefined) {
    throw new BundleRejectedError(
      "NO_APPSPEC",
      `${APPSPEC_FILE} at the bundle root is a ${appspec.type}, not a regular file`,
    );
  }
  const nested = [...byPath.keys()].find((path) => path.endsWith(`/${APPSPEC_FILE}`));
  const hint =
    nested === undefined
      ? ""
      : ` (found ${JSON.stringify(nested)}: pack the folder's contents, not the folder, e.g. tar -czf bundle.tar.gz -C <folder> .)`;
  throw new BundleRejectedError(
    "NO_APPSPEC",
    `bundle has no ${APPSPEC_FILE} at its root; CodeDeploy reads it only from there${hint}`,
  );
}

// CodeDeploy resolves hook locations from the root of the revision; a leading "/" or "./" is
// commonly written and means the same.
const fromRoot = (location: string): string =>
  location.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");

function assertHookScriptsExist(appspec: AppSpec, byPath: ReadonlyMap<string, ArchiveEntry>) {
  for (const hook of HOOK_NAMES) {
    for (const script of appspec.hooks?.[hook] ?? []) {
      const path = hookScriptPath(hook, script.location);
      const entry = path === null ? undefined : byPath.get(path);
      if (entry?.type === "file") continue;
      const problem =
        path === null
          ? "is the bundle root, not a regular file"
          : entry === undefined
            ? "is not in the bundle"
            : `is a ${entry.type}, not a regular file`;
      throw new BundleRejectedError(
        "MISSING_HOOK_SCRIPT",
        `hook ${hook} runs ${JSON.stringify(script.location)}, which ${problem}`,
      );
    }
  }
}

/**
 * The bundle path a hook runs, or null for the root. Held to the rules entries are held to, so
 * that a location such as "../x.sh" is refused for what it is (a way out of the revision), not
 * merely as missing.
 */
function hookScriptPath(hook: HookName, location: string): string | null {
  try {
    return normaliseEntryPath(fromRoot(location));
  } catch (error) {
    if (!(error instanceof BundleRejectedError)) throw error;
    // The entry rule quotes the path with its "/" or "./" already stripped; name the location
    // as the appspec writes it instead, and keep only the rule's reason.
    const reason = error.message.replace(/^entry "(?:[^"\\]|\\.)*" /, "");
    throw new BundleRejectedError(
      "UNSAFE_PATH",
      `hook ${hook} runs ${JSON.stringify(location)}, which ${reason}`,
      { cause: error },
    );
  }
}

function assertFileSourcesExist(appspec: AppSpec, entries: readonly ArchiveEntry[]): void {
  for (const [index, file] of (appspec.files ?? []).entries()) {
    const source = fromRoot(file.source);
    if (source === "") continue;
    const exists = entries.some(
      (entry) => entry.path === source || entry.path.startsWith(`${source}/`),
    );
    if (!exists) {
      throw new BundleRejectedError(
        "INVALID_APPSPEC",
        `${APPSPEC_FILE} files[${index}].source ${JSON.stringify(file.source)} is not in the bundle`,
      );
    }
  }
}
