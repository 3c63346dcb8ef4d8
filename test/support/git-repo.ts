import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
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
  const git = (...args: string[]) => run("git", args, { cwd: dir, env: GIT_ENV });
  await git("init", "--quiet", "--initial-branch=main");
  for (const [name, content] of Object.entries(files))
    await writeFile(path.join(dir, name), content);
  await git("add", ".");
  await git("commit", "--quiet", "--message", "first");
  const { stdout } = await git("rev-parse", "HEAD");
  return { dir, commit: stdout.trim() };
}
