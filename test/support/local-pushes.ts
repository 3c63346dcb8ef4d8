import { githubSample, type Sample } from "../unit/webhooks/samples";

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
