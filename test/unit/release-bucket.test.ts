import { createHash } from "node:crypto";
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ReleaseBucket } from "../../adapters/release-bucket";
import { rejectionOf, useTempDirs } from "../support/bundles";

const s3 = mockClient(S3Client);
const tempDir = useTempDirs();
const BUCKET = "sluice-test-releases";
const KEY = "hello/1.0.0.tar.gz";

afterEach(() => {
  s3.reset();
});
// Files that share this worker's modules (vitest.config.ts) get the real client back.
afterAll(() => {
  s3.restore();
});

const bucket = (): ReleaseBucket => new ReleaseBucket(new S3Client({}), BUCKET);

/** A real stream, read chunk by chunk as the SDK's body would be. */
function bodyOf(chunks: readonly Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false });
}

function objectOutput(
  body: Readable,
  fields: Partial<Omit<GetObjectCommandOutput, "Body">>,
): GetObjectCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    Body: body as unknown as NonNullable<GetObjectCommandOutput["Body"]>,
    ...fields,
  };
}

function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode },
    message: name,
  });
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe("ReleaseBucket.download", () => {
  it("writes the exact version asked for to the file and reports its bytes' size and sha256", async () => {
    // Prepare
    const bytes = Buffer.from("a bundle's bytes\n".repeat(100));
    s3.on(GetObjectCommand).resolves(
      objectOutput(bodyOf([bytes.subarray(0, 700), bytes.subarray(700)]), {
        ETag: '"abc123"',
        ContentLength: bytes.length,
        VersionId: "v-2",
      }),
    );
    const file = join(await tempDir(), "bundle.tar.gz");

    // Act
    const downloaded = await bucket().download(
      { key: KEY, versionId: "v-2", etag: "abc123" },
      file,
      bytes.length,
    );

    // Assess
    expect(downloaded).toEqual({
      etag: "abc123",
      size: bytes.length,
      sha256: sha256(bytes),
      versionId: "v-2",
    });
    expect(await readFile(file)).toEqual(bytes);
    const sent = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input);
    expect(sent).toEqual([{ Bucket: BUCKET, Key: KEY, VersionId: "v-2" }]);
  });

  it("asks with If-Match for an unversioned object and reports no version id for S3's null", async () => {
    // Prepare
    const bytes = Buffer.from("unversioned");
    s3.on(GetObjectCommand).resolves(
      objectOutput(bodyOf([bytes]), {
        ETag: '"e1"',
        ContentLength: bytes.length,
        VersionId: "null",
      }),
    );
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const downloaded = await bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    expect(downloaded).toEqual({ etag: "e1", size: bytes.length, sha256: sha256(bytes) });
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
      IfMatch: '"e1"',
    });
  });

  it("refuses an object whose ContentLength is over maxBytes as TOO_LARGE without reading it", async () => {
    // Prepare
    const body = bodyOf([Buffer.alloc(64)]);
    s3.on(GetObjectCommand).resolves(objectOutput(body, { ETag: '"e1"', ContentLength: 2048 }));
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const error = await rejectionOf(bucket().download({ key: KEY, etag: "e1" }, file, 1024));

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toBe(
      "bundle is 2048 bytes, over the limit of 1024 bytes (maxBundleBytes)",
    );
    expect(body.destroyed).toBe(true);
    expect(await exists(file)).toBe(false);
  });

  it("refuses as TOO_LARGE a body that streams past maxBytes although ContentLength claims less", async () => {
    // Prepare
    const body = bodyOf([Buffer.alloc(600), Buffer.alloc(600), Buffer.alloc(600)]);
    s3.on(GetObjectCommand).resolves(objectOutput(body, { ETag: '"e1"', ContentLength: 100 }));
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const error = await rejectionOf(bucket().download({ key: KEY, etag: "e1" }, file, 1024));

    // Assess
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toBe(
      "bundle is 1200 bytes, over the limit of 1024 bytes (maxBundleBytes)",
    );
    expect(body.destroyed).toBe(true);
  });

  it("reports the size and sha256 of the bytes received, not the ContentLength claimed", async () => {
    // Prepare
    const bytes = Buffer.from("more than was announced");
    s3.on(GetObjectCommand).resolves(
      objectOutput(bodyOf([bytes]), { ETag: '"e1"', ContentLength: 4 }),
    );
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const downloaded = await bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    expect(downloaded).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });
    expect(await readFile(file)).toEqual(bytes);
  });

  it("treats an object whose ETag is not the one asked for as gone, writing nothing", async () => {
    // Prepare: a store that ignores If-Match (s3rver) answers with whatever is there now.
    const body = bodyOf([Buffer.from("someone else's upload")]);
    s3.on(GetObjectCommand).resolves(objectOutput(body, { ETag: '"other"', ContentLength: 21 }));
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const downloaded = await bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    expect(downloaded).toBeUndefined();
    expect(body.destroyed).toBe(true);
    expect(await exists(file)).toBe(false);
  });

  it.each([
    ["PreconditionFailed (overwritten since the upload)", s3Error("PreconditionFailed", 412)],
    [
      "NoSuchKey (deleted since the upload)",
      new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: "NoSuchKey" }),
    ],
  ])("treats %s as gone", async (_, error) => {
    // Prepare
    s3.on(GetObjectCommand).rejects(error);
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const downloaded = await bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    expect(downloaded).toBeUndefined();
    expect(await exists(file)).toBe(false);
  });

  it("passes on other S3 errors, such as AccessDenied", async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(s3Error("AccessDenied", 403));
    const file = join(await tempDir(), "bundle.zip");

    // Act
    const outcome = bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("never overwrites a file that is already there", async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves(
      objectOutput(bodyOf([Buffer.from("new bytes")]), { ETag: '"e1"', ContentLength: 9 }),
    );
    const file = join(await tempDir(), "bundle.zip");
    await writeFile(file, "kept");

    // Act
    const outcome = bucket().download({ key: KEY, etag: "e1" }, file, 1024);

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(file, "utf8")).toBe("kept");
  });
});
