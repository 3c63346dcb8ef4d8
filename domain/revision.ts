import { z } from "zod";

/** A git commit to build and deploy. The commit is pinned: a branch name is not a revision. */
export const GitRevisionSchema = z.object({
  type: z.literal("git"),
  repository: z.string().min(1).optional(),
  ref: z.string().min(1).optional(),
  commit: z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/, "commit must be a full hex sha"),
});

/** A release bundle in S3. Once recorded with its etag or version id and sha256, it never changes. */
export const BundleRevisionSchema = z.object({
  type: z.literal("bundle"),
  bucket: z.string().min(3).optional(),
  key: z.string().min(1),
  versionId: z.string().min(1).optional(),
  etag: z.string().min(1).optional(),
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const RevisionSchema = z.discriminatedUnion("type", [
  GitRevisionSchema,
  BundleRevisionSchema,
]);
export type Revision = z.infer<typeof RevisionSchema>;
export type GitRevision = z.infer<typeof GitRevisionSchema>;
export type BundleRevision = z.infer<typeof BundleRevisionSchema>;

export function describeRevision(revision: Revision): string {
  return revision.type === "git"
    ? `${revision.ref ? `${revision.ref}@` : ""}${revision.commit.slice(0, 12)}`
    : `${revision.key}${revision.versionId ? `?versionId=${revision.versionId}` : ""}`;
}
