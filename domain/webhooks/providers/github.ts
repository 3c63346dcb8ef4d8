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

/** GitHub lists at most this many commits in a push delivery. */
const MAX_LISTED_COMMITS = 2048;

const FileListSchema = z.optional(z.array(z.string()));

const GithubPushSchema = z.looseObject({
  ref: z.string(),
  after: z.string(),
  deleted: z.optional(z.boolean()),
  repository: z.looseObject({ full_name: z.string(), clone_url: z.string() }),
  /** GitHub writes the pusher's login as its `name`. */
  pusher: z.looseObject({ name: z.string(), email: z.optional(z.nullable(z.string())) }),
  head_commit: z.optional(
    z.nullable(
      z.looseObject({
        id: z.string(),
        message: z.string(),
        timestamp: z.optional(z.string()),
        author: z.looseObject({
          name: z.string(),
          email: z.optional(z.nullable(z.string())),
          /** Set when the commit's email belongs to a GitHub account. */
          username: z.optional(z.string()),
        }),
      }),
    ),
  ),
  commits: z.array(
    z.looseObject({ added: FileListSchema, modified: FileListSchema, removed: FileListSchema }),
  ),
});

export function parseGithub(webhook: IncomingWebhook): ParsedWebhook {
  const event = requireHeader(webhook, "x-github-event", "GitHub");
  const deliveryId = requireHeader(webhook, "x-github-delivery", "GitHub");
  if (event === "ping") return { kind: "ping", deliveryId };
  if (event !== "push") {
    throw new WebhookPayloadError(
      `unsupported event "${event}" from GitHub: Sluice takes push events only`,
    );
  }

  const push = readJsonBody(webhook, GithubPushSchema, "GitHub push payload");
  const ref = splitRef(push.ref);
  if (ref === undefined)
    return { kind: "ignored", deliveryId, reason: notBranchOrTagReason(push.ref) };
  if (push.deleted === true || isAllZeros(push.after)) {
    return { kind: "ignored", deliveryId, reason: deletedReason(ref) };
  }

  const head = push.head_commit ?? undefined;
  return {
    kind: "change",
    change: {
      provider: "github",
      deliveryId,
      repo: { fullName: push.repository.full_name, cloneUrl: push.repository.clone_url },
      ...ref,
      // For an annotated tag `after` is the tag object; the head commit is what gets built.
      commitSha: head?.id ?? push.after,
      author: head?.author.name ?? push.pusher.name,
      ...(head
        ? identityOf(head.author.email, head.author.username)
        : identityOf(push.pusher.email, push.pusher.name)),
      message: head?.message ?? "",
      ...(head?.timestamp ? { committedAt: head.timestamp } : {}),
      // A push of more commits than a delivery lists may have changed files it does not name.
      changedPaths:
        push.commits.length >= MAX_LISTED_COMMITS ? null : changedPathsOf(push.commits, undefined),
      receivedAt: webhook.receivedAt.toISOString(),
    },
  };
}
