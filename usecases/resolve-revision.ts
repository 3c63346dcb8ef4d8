import { ConflictError, NotFoundError } from "../domain/errors";
import type { ReleaseObjects } from "../domain/ports";
import type { Revision } from "../domain/revision";

/**
 * The source stage: pins the revision so every later stage deploys exactly the same bytes.
 * A bundle is pinned to the object's current version id and etag; a git revision is already
 * pinned by its commit sha. The pipeline records the pinned revision when the stage ends.
 */
export async function resolveRevision(
  ports: { releases: ReleaseObjects },
  revision: Revision,
): Promise<Revision> {
  if (revision.type === "git") return revision;
  const bucket = revision.bucket ?? ports.releases.bucket;
  if (bucket !== ports.releases.bucket) {
    throw new NotFoundError(`bundle bucket ${bucket} is not the releases bucket`);
  }
  const head = await ports.releases.head(revision.key, revision.versionId);
  if (!head) throw new NotFoundError(`bundle s3://${bucket}/${revision.key} does not exist`);
  if (revision.etag && revision.etag !== head.etag) {
    // Only where the bucket keeps no versions: a version id names the recorded object itself.
    throw new ConflictError(
      `bundle s3://${bucket}/${revision.key} changed since it was recorded (etag ${head.etag}, expected ${revision.etag}): an upload under its key replaced the released bytes; release them again under a new version`,
    );
  }
  return {
    ...revision,
    bucket,
    etag: head.etag,
    size: head.size,
    ...(head.versionId ? { versionId: head.versionId } : {}),
  };
}
