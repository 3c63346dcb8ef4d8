import { constants, readlinkSync } from "node:fs";
import {
  access,
  chmod,
  cp,
  lstat,
  mkdir,
  readdir,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import path from "node:path";
import type { AppSpec } from "../../domain/bundles/appspec";

/** The agent keeps this many revisions on a host (its max_revisions), besides the live ones. */
const KEPT_REVISIONS = 5;

/**
 * One host of the local fleet: a folder holding each revision it received, unpacked once into
 * `revisions/<deployment>/bundle/` and installed into `revisions/<deployment>/root/`, and two
 * symlinks switched in by rename, so they always name a whole revision: `root` (the host's
 * filesystem as the appspec's absolute destinations see it) and `current`.
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
    if (!(await exists(this.root))) await switchLink(this.root, "initial-root");
  }

  /**
   * Copies the appspec's `files` into the revision's own root, each absolute destination
   * mapped under it, then switches `root` and `current` to that revision at once.
   */
  async install(deploymentId: string, appspec: AppSpec): Promise<void> {
    const bundle = this.bundleDir(deploymentId);
    const root = path.join(this.revisionDir(deploymentId), "root");
    await mkdir(root, { recursive: true });
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
    await switchLink(this.root, path.join("revisions", deploymentId, "root"));
    await switchLink(path.join(this.dir, "current"), path.join("revisions", deploymentId));
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
export async function ensureExecutable(file: string): Promise<void> {
  try {
    await access(file, constants.X_OK);
  } catch {
    const { mode } = await stat(file);
    await chmod(file, mode | 0o755);
  }
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
async function switchLink(link: string, target: string): Promise<void> {
  const next = `${link}.next`;
  await rm(next, { force: true });
  await symlink(target, next);
  const existing = await lstat(link).catch(() => undefined);
  // A script may have made a real folder where the link is (mkdir -p before the first install).
  if (existing && !existing.isSymbolicLink()) {
    await rename(link, `${link}.before-${Date.now()}`);
  }
  await rename(next, link);
}
