import * as z from "../../zod";
import type { ParsedWebhook } from "../parsed";
import { WebhookPayloadError } from "../parsed";
import type { IncomingWebhook } from "../verify";
import {
  type AuthorIdentity,
  changedPathsOf,
  deletedReason,
  identityOf,
  isAllZeros,
  notBranchOrTagReason,
  readJsonBody,
  requireHeader,
  requireOneOfHeaders,
  splitRef,
} from "./payload";

const FileListSchema = z.optional(z.array(z.string()));

const GitlabPushSchema = z.looseObject({
  ref: z.string(),
  after: z.string(),
  checkout_sha: z.nullable(z.string()),
  /** The pusher. GitLab writes an empty or redacted email for users who keep theirs private. */
  user_name: z.string(),
  user_username: z.optional(z.nullable(z.string())),
  user_email: z.optional(z.nullable(z.string())),
  message: z.optional(z.nullable(z.string())),
  project: z.looseObject({ path_with_namespace: z.string(), git_http_url: z.string() }),
  commits: z.array(
    z.looseObject({
      id: z.string(),
      message: z.string(),
      timestamp: z.optional(z.string()),
      author: z.looseObject({ name: z.string(), email: z.optional(z.string()) }),
      added: FileListSchema,
      modified: FileListSchema,
      removed: FileListSchema,
    }),
  ),
  total_commits_count: z.number().check(z.int(), z.nonnegative()),
});

const PUSH_EVENTS = new Set(["Push Hook", "Tag Push Hook"]);

// Idempotency-Key (GitLab 17.4+) stays the same when GitLab retries a delivery; the event
// UUID and, on older versions, the webhook UUID are the next best identifiers.
const DELIVERY_HEADERS = ["idempotency-key", "x-gitlab-event-uuid", "x-gitlab-webhook-uuid"];

export function parseGitlab(webhook: IncomingWebhook): ParsedWebhook {
  const event = requireHeader(webhook, "x-gitlab-event", "GitLab");
  if (!PUSH_EVENTS.has(event)) {
    throw new WebhookPayloadError(
      `unsupported event "${event}" from GitLab: Sluice takes Push Hook and Tag Push Hook only`,
    );
  }
  const deliveryId = requireOneOfHeaders(webhook, DELIVERY_HEADERS, "GitLab");

  const push = readJsonBody(webhook, GitlabPushSchema, `GitLab ${event} payload`);
  const ref = splitRef(push.ref);
  if (ref === undefined)
    return { kind: "ignored", deliveryId, reason: notBranchOrTagReason(push.ref) };
  if (isAllZeros(push.after)) return { kind: "ignored", deliveryId, reason: deletedReason(ref) };

  // checkout_sha is the commit even for an annotated tag, whose `after` is the tag object.
  const commitSha = push.checkout_sha ?? push.after;
  const head = push.commits.find((commit) => commit.id === commitSha);
  return {
    kind: "change",
    change: {
      provider: "gitlab",
      deliveryId,
      repo: { fullName: push.project.path_with_namespace, cloneUrl: push.project.git_http_url },
      ...ref,
      commitSha,
      author: head?.author.name ?? push.user_name,
      ...(head ? commitAuthorIdentity(head.author, push) : pusherIdentity(push)),
      message: head?.message ?? push.message ?? "",
      ...(head?.timestamp ? { committedAt: head.timestamp } : {}),
      changedPaths: changedPathsOf(push.commits, push.total_commits_count),
      receivedAt: webhook.receivedAt.toISOString(),
    },
  };
}

type GitlabPush = z.infer<typeof GitlabPushSchema>;

function pusherIdentity(push: GitlabPush): AuthorIdentity {
  return identityOf(push.user_email, push.user_username);
}

/**
 * GitLab names no account for a commit's author; the pusher's is the author's too when the
 * pusher's email is the commit's.
 */
function commitAuthorIdentity(
  author: { email?: string | undefined },
  push: GitlabPush,
): AuthorIdentity {
  const pusher = pusherIdentity(push);
  const samePerson =
    author.email !== undefined && pusher.authorEmail?.toLowerCase() === author.email.toLowerCase();
  return identityOf(author.email, samePerson ? pusher.authorUsername : undefined);
}
