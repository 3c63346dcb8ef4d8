import * as z from "../zod";

export const ProviderSchema = z.enum(["github", "gitlab", "bitbucket", "gitea"]);
export type Provider = z.infer<typeof ProviderSchema>;

export const ChangeSchema = z.object({
  provider: ProviderSchema,
  deliveryId: z.string().check(z.minLength(1)),
  repo: z.object({ fullName: z.string(), cloneUrl: z.string() }),
  /** Full ref: refs/heads/main, refs/tags/v1.2.0. */
  ref: z.string(),
  refType: z.enum(["branch", "tag"]),
  /** Short name: main, v1.2.0. */
  refName: z.string(),
  commitSha: z.string(),
  /** The head commit's author (else the pusher), as a name to show. */
  author: z.string(),
  /** The same person's email and account on the host, where the push says them. */
  authorEmail: z.optional(z.string()),
  authorUsername: z.optional(z.string()),
  /** The head commit's whole message. */
  message: z.string(),
  /** When the head commit was committed, as the host says it (ISO 8601). */
  committedAt: z.optional(z.string()),
  /**
   * Paths touched by the push, or null when the host does not say: Bitbucket Cloud push
   * payloads carry no file list, and the other hosts leave it out or cut it short for
   * some pushes (see docs/webhooks.md).
   */
  changedPaths: z.nullable(z.array(z.string())),
  /** ISO 8601. */
  receivedAt: z.string(),
});
export type Change = z.infer<typeof ChangeSchema>;
