import { parseGitAuthor } from "../../git-author";
import * as z from "../../zod";
import type { ParsedWebhook } from "../parsed";
import { WebhookPayloadError } from "../parsed";
import type { IncomingWebhook } from "../verify";
import { deletedReason, identityOf, readJsonBody, refOf, requireHeader } from "./payload";

/**
 * An account. Bitbucket Cloud dropped `username` from its API for privacy and names accounts by
 * `nickname` instead; older payloads carry `username`.
 */
const BitbucketUserSchema = z.looseObject({
  display_name: z.optional(z.string()),
  nickname: z.optional(z.string()),
  username: z.optional(z.string()),
});

const BitbucketRefSchema = z.looseObject({
  type: z.string(),
  name: z.string(),
  target: z.looseObject({
    hash: z.string(),
    message: z.optional(z.string()),
    author: z.optional(
      z.looseObject({
        raw: z.optional(z.string()),
        user: z.optional(BitbucketUserSchema),
      }),
    ),
  }),
});

const BitbucketPushSchema = z.looseObject({
  actor: BitbucketUserSchema,
  repository: z.looseObject({
    full_name: z.string(),
    links: z.looseObject({ html: z.looseObject({ href: z.string() }) }),
  }),
  push: z.looseObject({
    changes: z.array(
      z.looseObject({ new: z.nullable(BitbucketRefSchema), old: z.nullable(BitbucketRefSchema) }),
    ),
  }),
});

type BitbucketRef = z.infer<typeof BitbucketRefSchema>;

export function parseBitbucket(webhook: IncomingWebhook): ParsedWebhook {
  const event = requireHeader(webhook, "x-event-key", "Bitbucket");
  if (event !== "repo:push") {
    throw new WebhookPayloadError(
      `unsupported event "${event}" from Bitbucket: Sluice takes repo:push events only`,
    );
  }
  const deliveryId = requireHeader(webhook, "x-request-uuid", "Bitbucket");

  const payload = readJsonBody(webhook, BitbucketPushSchema, "Bitbucket repo:push payload");
  const changes = payload.push.changes;
  // One Bitbucket push can update several refs; Sluice starts a run for the first one that
  // still exists afterwards.
  const updated = changes.find((change) => change.new !== null)?.new ?? undefined;
  if (updated === undefined) {
    const deleted = changes.find((change) => change.old !== null)?.old ?? undefined;
    const reason =
      deleted === undefined || !isBranchOrTag(deleted)
        ? "push changed no branch or tag"
        : deletedReason(refOf(deleted.type, deleted.name));
    return { kind: "ignored", deliveryId, reason };
  }
  if (!isBranchOrTag(updated)) {
    return {
      kind: "ignored",
      deliveryId,
      reason: `${updated.type} "${updated.name}" is neither a branch nor a tag`,
    };
  }

  const repoUrl = payload.repository.links.html.href.replace(/\/+$/, "");
  const author = updated.target.author;
  const raw = author?.raw === undefined ? {} : parseGitAuthor(author.raw);
  // The change is credited to the commit's author; to the actor only when it names none.
  const account = author === undefined ? payload.actor : author.user;
  return {
    kind: "change",
    change: {
      provider: "bitbucket",
      deliveryId,
      // Bitbucket's push payload has no clone link; the HTTPS clone URL is the page URL + .git.
      repo: { fullName: payload.repository.full_name, cloneUrl: `${repoUrl}.git` },
      ...refOf(updated.type, updated.name),
      commitSha: updated.target.hash,
      author: author?.user?.display_name ?? raw.name ?? payload.actor.display_name ?? "",
      ...identityOf(raw.email, account?.nickname ?? account?.username),
      message: updated.target.message ?? "",
      // Bitbucket Cloud push payloads list commits without the files they touched.
      changedPaths: null,
      receivedAt: webhook.receivedAt.toISOString(),
    },
  };
}

function isBranchOrTag(ref: BitbucketRef): ref is BitbucketRef & { type: "branch" | "tag" } {
  return ref.type === "branch" || ref.type === "tag";
}
