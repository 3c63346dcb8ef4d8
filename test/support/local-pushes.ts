import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { githubSample, type Sample } from "../unit/webhooks/samples";

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

/** Commits `files` on top of the repository's current branch; returns the new commit's sha. */
export async function addCommit(
  dir: string,
  files: Record<string, string>,
  message: string,
): Promise<string> {
  const git = (...args: string[]) => run("git", args, { cwd: dir, env: GIT_ENV });
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
  }
  await git("add", ".");
  await git("commit", "--quiet", "--message", message);
  const { stdout } = await git("rev-parse", "HEAD");
  return stdout.trim();
}

/**
 * GitHub's branch push sample (@octokit/webhooks-examples) turned into a push of `commit` to
 * the repository at `cloneUrl`, such as a local repository made with makeGitRepo. Unsigned:
 * sign it with signedDelivery.
 */
export function githubPushOf(commit: string, cloneUrl: string): Sample {
  const sample = githubSample("push-branch");
  const payload = JSON.parse(sample.rawBody);
  payload.after = commit;
  payload.head_commit = { ...payload.head_commit, id: commit, message: `deploy ${commit}` };
  payload.commits = [payload.head_commit];
  payload.repository.clone_url = cloneUrl;
  return { ...sample, rawBody: JSON.stringify(payload) };
}
