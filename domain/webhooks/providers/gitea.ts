import * as z from "../../zod";
import type { ParsedWebhook } from "../parsed";
import { WebhookPayloadError } from "../parsed";
import type { IncomingWebhook } from "../verify";
import {
  changedPathsOf,
  deletedReason,
  identityOf,
  isAllZeros,
  notBranchOrTagReason,
  readJsonBody,
  requireHeader,
  splitRef,
} from "./payload";

// Gitea is written in Go, which can write an empty list as null; a missing list stays
// undefined, meaning the files are not known.
const FileListSchema = z.pipe(
  z.optional(z.nullable(z.array(z.string()))),
  z.transform((files) => (files === null ? [] : files)),
);

const GiteaCommitSchema = z.looseObject({
  id: z.string(),
  message: z.string(),
  timestamp: z.optional(z.string()),
  author: z.looseObject({
    name: z.string(),
    email: z.optional(z.string()),
    /** Empty when the commit's email belongs to no Gitea account. */
    username: z.optional(z.string()),
  }),
  added: FileListSchema,
  modified: FileListSchema,
  removed: FileListSchema,
});

const GiteaPushSchema = z.looseObject({
  ref: z.string(),
  before: z.optional(z.string()),
  after: z.string(),
  repository: z.looseObject({ full_name: z.string(), clone_url: z.string() }),
  pusher: z.looseObject({
    login: z.string(),
    full_name: z.optional(z.string()),
    email: z.optional(z.string()),
  }),
  commits: z.nullable(z.array(GiteaCommitSchema)),
  head_commit: z.optional(z.nullable(GiteaCommitSchema)),
  total_commits: z.optional(z.number().check(z.int(), z.nonnegative())),
});

export function parseGitea(webhook: IncomingWebhook): ParsedWebhook {
  const event = requireHeader(webhook, "x-gitea-event", "Gitea");
  if (event !== "push") {
    throw new WebhookPayloadError(
      `unsupported event "${event}" from Gitea: Sluice takes push events only`,
    );
  }
  const deliveryId = requireHeader(webhook, "x-gitea-delivery", "Gitea");

  const push = readJsonBody(webhook, GiteaPushSchema, "Gitea push payload");
  // A real push moves its ref. The Test Delivery button sends a push that does not: of the
  // latest commit onto itself in older Gitea, of the all-zeros id in newer.
  if (push.before === push.after) return { kind: "ping", deliveryId };
  const ref = splitRef(push.ref);
  if (ref === undefined)
    return { kind: "ignored", deliveryId, reason: notBranchOrTagReason(push.ref) };
  if (isAllZeros(push.after)) return { kind: "ignored", deliveryId, reason: deletedReason(ref) };

  const commits = push.commits ?? [];
  const head = push.head_commit ?? commits.find((commit) => commit.id === push.after);
  return {
    kind: "change",
    change: {
      provider: "gitea",
      deliveryId,
      repo: { fullName: push.repository.full_name, cloneUrl: push.repository.clone_url },
      ...ref,
      commitSha: head?.id ?? push.after,
      author: head?.author.name || push.pusher.full_name || push.pusher.login,
      ...(head
        ? identityOf(head.author.email, head.author.username)
        : identityOf(push.pusher.email, push.pusher.login)),
      message: head?.message ?? "",
      ...(head?.timestamp ? { committedAt: head.timestamp } : {}),
      changedPaths: changedPathsOf(commits, push.total_commits),
      receivedAt: webhook.receivedAt.toISOString(),
    },
  };
}
