import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  symlinkSync,
} from "node:fs";
import { cp, lstat, mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { AppSpec } from "../../domain/bundles/appspec";

/** The agent keeps this many revisions on a host (its max_revisions), besides the live ones. */
const KEPT_REVISIONS = 5;

/**
 * One host of the local fleet: a folder holding each revision it received, unpacked once into
 * `revisions/<deployment>/bundle/` and installed into `revisions/<deployment>/root/`, and two
 * symlinks switched in by rename, so they always name a whole revision: `root` (the host's
 * filesystem as the appspec's absolute destinations see it) and `current`.
 *
 * The calls on a host's way through a deployment that only touch metadata (a folder, a link, a
 * mode) are synchronous: each takes microseconds, where an asynchronous one waits for a
 * thread-pool turn and then an event-loop turn, milliseconds each on a busy machine.
 */
export class HostFolder {
  constructor(readonly dir: string) {}

  get root(): string {
    return path.join(this.dir, "root");
  }

  revisionDir(deploymentId: string): string {
    return path.join(this.dir, "revisions", deploymentId);
  }

  bundleDir(deploymentId: string): string {
    return path.join(this.revisionDir(deploymentId), "bundle");
  }

  logFile(deploymentId: string): string {
    return path.join(this.dir, "logs", `${deploymentId}.log`);
  }

  /** A new host starts with an empty root, so BeforeInstall scripts have somewhere to write. */
  async prepare(): Promise<void> {
    await mkdir(path.join(this.dir, "logs"), { recursive: true });
    await mkdir(path.join(this.dir, "revisions"), { recursive: true });
    const initial = path.join(this.dir, "initial-root");
    await mkdir(initial, { recursive: true });
    if (!(await exists(this.root))) switchLink(this.root, "initial-root");
  }

  /**
   * Copies the appspec's `files` into the revision's own root, each absolute destination
   * mapped under it, then switches `root` and `current` to that revision at once.
   */
  async install(deploymentId: string, appspec: AppSpec): Promise<void> {
    const bundle = this.bundleDir(deploymentId);
    const root = path.join(this.revisionDir(deploymentId), "root");
    mkdirSync(root, { recursive: true });
    for (const file of appspec.files ?? []) {
      const source = path.join(bundle, file.source.replace(/^\/+/, ""));
      const destination = path.join(root, file.destination.replace(/^\/+/, ""));
      if ((await stat(source)).isDirectory()) {
        await cp(source, destination, { recursive: true, verbatimSymlinks: true, force: true });
      } else {
        await mkdir(destination, { recursive: true });
        await cp(source, path.join(destination, path.basename(source)), { force: true });
      }
    }
    switchLink(this.root, path.join("revisions", deploymentId, "root"));
    switchLink(path.join(this.dir, "current"), path.join("revisions", deploymentId));
  }

  /** The deployment whose revision `current` names, if any. */
  currentDeployment(): string | undefined {
    try {
      return path.basename(readlinkSync(path.join(this.dir, "current")));
    } catch {
      return undefined;
    }
  }

  /** Removes revisions beyond the newest few, never the live or the last successful one. */
  async prune(keep: readonly (string | undefined)[]): Promise<void> {
    const dir = path.join(this.dir, "revisions");
    const entries = await Promise.all(
      (await readdir(dir)).map(async (name) => ({
        name,
        time: (await stat(path.join(dir, name))).mtimeMs,
      })),
    );
    const current = this.currentDeployment();
    const old = entries
      .sort((a, b) => b.time - a.time)
      .slice(KEPT_REVISIONS)
      .filter(({ name }) => name !== current && !keep.includes(name));
    for (const { name } of old) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Makes the script runnable, as the agent does when its executable bit was lost. */
export function ensureExecutable(file: string, { mode }: Stats): void {
  if (mode & 0o100) return;
  chmodSync(file, mode | 0o755);
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Points `link` at `target` by renaming a new symlink over it: never missing, never half. */
function switchLink(link: string, target: string): void {
  const next = `${link}.next`;
  rmSync(next, { force: true });
  symlinkSync(target, next);
  const existing = lstatSync(link, { throwIfNoEntry: false });
  // A script may have made a real folder where the link is (mkdir -p before the first install).
  if (existing && !existing.isSymbolicLink()) {
    renameSync(link, `${link}.before-${Date.now()}`);
  }
  renameSync(next, link);
}
