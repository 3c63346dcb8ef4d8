import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

/** A git repository in a temp folder with one commit of the given files; returns its sha. */
export async function makeGitRepo(
  files: Record<string, string>,
): Promise<{ dir: string; commit: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-repo-"));
  await run("git", ["init", "--quiet", "--initial-branch=main"], { cwd: dir, env: GIT_ENV });
  return { dir, commit: await addCommit(dir, files, "first") };
}

/** Commits `files` on top of the repository's current branch; returns the new commit's sha. */
export async function addCommit(
  dir: string,
  files: Record<string, string>,
  message: string,
): Promise<string> {
  const git = (...args: string[]) => run("git", args, { cwd: dir, env: GIT_ENV });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  await git("add", ".");
  await git("commit", "--quiet", "--message", message);
  const { stdout } = await git("rev-parse", "HEAD");
  return stdout.trim();
}
