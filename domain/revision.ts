import * as z from "./zod";

/** A git commit to build and deploy. The commit is pinned: a branch name is not a revision. */
export const GitRevisionSchema = z.object({
  type: z.literal("git"),
  repository: z.optional(z.string().check(z.minLength(1))),
  ref: z.optional(z.string().check(z.minLength(1))),
  commit: z
    .string()
    .check(z.regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/, "commit must be a full hex sha")),
});

/** A release bundle in S3. Once recorded with its etag or version id and sha256, it never changes. */
export const BundleRevisionSchema = z.object({
  type: z.literal("bundle"),
  bucket: z.optional(z.string().check(z.minLength(3))),
  key: z.string().check(z.minLength(1)),
  versionId: z.optional(z.string().check(z.minLength(1))),
  etag: z.optional(z.string().check(z.minLength(1))),
  size: z.optional(z.number().check(z.int(), z.nonnegative())),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  /** The commit a run's build made the bundle from; absent for an uploaded bundle. */
  source: z.optional(GitRevisionSchema),
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
    : `${revision.key}${revision.versionId ? `?versionId=${revision.versionId}` : ""}${revision.source ? ` (built from ${describeRevision(revision.source)})` : ""}`;
}

/** A run's revision as a person reads it: its kind, what it is, and a bundle's hash in short. */
export function revisionOf(run: { revision: Revision }): string {
  const { revision } = run;
  const described = `${revision.type} ${describeRevision(revision)}`;
  return revision.type === "bundle" && revision.sha256
    ? `${described} sha256:${revision.sha256.slice(0, 12)}`
    : described;
}
