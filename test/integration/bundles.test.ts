import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CopyObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BundleFormat } from "../../domain/bundles/release-key";
import { handler as receiveBundle } from "../../functions/receive-bundle";
import { encodeNotificationKey } from "../../local/s3-notifications";
import {
  type EntrySpec,
  FORMATS,
  packDirectory,
  useTempDirs,
  validEntries,
  writeBundle,
} from "../support/bundles";
import { expectEventsToMatchSchemaFiles } from "../support/event-schemas";
import { api, startTestStack, waitFor } from "../support/local-stack";

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), "../../examples/hello-service");
/** Small, so that a bundle over it is cheap to make; the example app is a few kB. */
const MAX_BUNDLE_BYTES = 64 * 1024;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let s3: S3Client;
const tempDir = useTempDirs();
const previousLimit = process.env.SLUICE_BUNDLE_MAX_BYTES;

beforeAll(async () => {
  process.env.SLUICE_BUNDLE_MAX_BYTES = String(MAX_BUNDLE_BYTES);
  stack = await startTestStack();
  s3 = new S3Client({ forcePathStyle: true });
  expect((await api(stack, "PUT", "/apps/hello", "executionMode: parallel\n")).status).toBe(201);
});
afterAll(async () => {
  await stack.cleanup();
  if (previousLimit === undefined) delete process.env.SLUICE_BUNDLE_MAX_BYTES;
  else process.env.SLUICE_BUNDLE_MAX_BYTES = previousLimit;
});

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

async function upload(key: string, bytes: Buffer): Promise<string> {
  const { ETag } = await s3.send(
    new PutObjectCommand({ Bucket: stack.resources.releasesBucket, Key: key, Body: bytes }),
  );
  return (ETag ?? "").replaceAll('"', "");
}

async function stored(key: string): Promise<Buffer> {
  const { Body } = await s3.send(
    new GetObjectCommand({ Bucket: stack.resources.releasesBucket, Key: key }),
  );
  return Buffer.from((await Body?.transformToByteArray()) ?? []);
}

async function exampleBundle(format: BundleFormat): Promise<Buffer> {
  return readFile(await packDirectory(EXAMPLE, join(await tempDir(), `hello.${format}`), format));
}

async function bundle(format: BundleFormat, entries: readonly EntrySpec[]): Promise<Buffer> {
  return readFile(await writeBundle(join(await tempDir(), `b.${format}`), format, entries));
}

// biome-ignore lint/suspicious/noExplicitAny: runs are read from the API and asserted on
type Json = any;

async function runsOf(key: string, app = "hello"): Promise<Json[]> {
  const { body } = await api(stack, "GET", `/apps/${app}/runs`);
  return (body.runs ?? []).filter((run: Json) => run.revision.key === key);
}

async function endedRunOf(key: string): Promise<Json> {
  return waitFor(
    async () => {
      const [run] = await runsOf(key);
      if (!run || !["SUCCEEDED", "FAILED"].includes(run.status)) return undefined;
      // The list shows runs alone; the run itself has its stages.
      return (await api(stack, "GET", `/runs/${run.id}`)).body;
    },
    { what: `the run of ${key} to end` },
  );
}

async function endedRun(id: string): Promise<Json> {
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${id}`);
      return body.endedAt ? body : undefined;
    },
    { what: `run ${id} to end` },
  );
}

async function rejectionOf(key: string): Promise<Json> {
  return waitFor(
    async () =>
      (await stack.eventBridge.read()).find(
        (e) => e["detail-type"] === "Bundle Rejected" && (e.detail as Json).key === key,
      )?.detail,
    { what: `a Bundle Rejected event for ${key}` },
  );
}

/** An S3 notification as the bucket sends it for a PutObject: what a redelivery repeats. */
function putEvent(key: string, bytes: Buffer, etag: string) {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: "AWS:TESTER" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "notification-1",
          bucket: {
            name: stack.resources.releasesBucket,
            arn: `arn:aws:s3:::${stack.resources.releasesBucket}`,
          },
          object: {
            key: encodeNotificationKey(key),
            size: bytes.length,
            eTag: etag,
            sequencer: "0055AED6DCD90281E5",
          },
        },
      },
    ],
  };
}

async function deliver(event: unknown): Promise<Json[]> {
  return (await receiveBundle(event, {} as Context)) as Json[];
}

describe.each(FORMATS)("an upload of the example app as %s", (format) => {
  const key = `hello/1.0.0-${format === "zip" ? "z" : "t"}.${format}`;

  it("starts exactly one run that deploys those very bytes and succeeds", async () => {
    // Prepare
    const bytes = await exampleBundle(format);

    // Act
    const etag = await upload(key, bytes);
    const run = await endedRunOf(key);

    // Assess
    expect(run.status).toBe("SUCCEEDED");
    expect(run.revision).toEqual({
      type: "bundle",
      bucket: stack.resources.releasesBucket,
      key,
      etag,
      size: bytes.length,
      sha256: sha256(bytes),
    });
    expect(run.trigger).toMatchObject({ type: "upload", reason: `bundle ${key}` });
    expect(run.stages).toContainEqual(
      expect.objectContaining({ name: "source", status: "SUCCEEDED" }),
    );
    expect(run.stages.filter((s: Json) => s.name === "build" && s.status !== "SKIPPED")).toEqual(
      [],
    );
    expect(await runsOf(key)).toHaveLength(1);
    const version = key.slice("hello/".length, -`.${format}`.length);
    const history = await api(stack, "GET", `/apps/hello/bundles/${version}`);
    expect(history.body.release).toMatchObject({ runId: run.id, sha256: sha256(bytes), etag });
  });
});

describe("delivery at least once", () => {
  it("starts one run when the same event arrives again, and when several arrive at once", async () => {
    // Prepare
    const key = "hello/2.0.0.tar.gz";
    const bytes = await exampleBundle("tar.gz");

    // Act: the bucket's own notification races three redeliveries of it
    const etag = await upload(key, bytes);
    const concurrent = await Promise.all([1, 2, 3].map(() => deliver(putEvent(key, bytes, etag))));
    const run = await endedRunOf(key);
    const [late] = await deliver(putEvent(key, bytes, etag));

    // Assess
    expect(await runsOf(key)).toHaveLength(1);
    for (const [outcome] of concurrent) expect(outcome.runId).toBe(run.id);
    expect(late).toEqual({ key, outcome: "duplicate", runId: run.id });
  });

  it("starts no new run when the same bytes are uploaded again", async () => {
    // Prepare
    const key = "hello/2.1.0.zip";
    const bytes = await exampleBundle("zip");
    await upload(key, bytes);
    const run = await endedRunOf(key);

    // Act
    const etag = await upload(key, bytes);
    const [again] = await deliver(putEvent(key, bytes, etag));

    // Assess
    expect(again).toEqual({ key, outcome: "duplicate", runId: run.id });
    expect(await runsOf(key)).toHaveLength(1);
  });
});

describe("a released version", () => {
  it("refuses other bytes as VERSION_EXISTS, starts no run and leaves the object alone", async () => {
    // Prepare
    const key = "hello/3.0.0.zip";
    const first = await exampleBundle("zip");
    await upload(key, first);
    const run = await endedRunOf(key);
    const other = await bundle("zip", validEntries());

    // Act
    await upload(key, other);
    const rejection = await rejectionOf(key);

    // Assess
    expect(rejection).toMatchObject({ app: "hello", code: "VERSION_EXISTS" });
    expect(rejection.reason).toContain(
      `version 3.0.0 of app hello was already released with sha256 ${sha256(first)}`,
    );
    expect(rejection.reason).toContain("new version");
    expect((await runsOf(key)).map((r) => r.id)).toEqual([run.id]);
    expect(sha256(await stored(key))).toBe(sha256(other));
    const history = await api(stack, "GET", "/apps/hello/bundles/3.0.0");
    expect(history.body.release.runId).toBe(run.id);
    expect(history.body.rejections).toEqual([
      expect.objectContaining({ code: "VERSION_EXISTS", etag: md5(other) }),
    ]);
    const trail = (await api(stack, "GET", "/apps/hello/audit")).body.entries;
    expect(trail.find((e: Json) => e.type === "Bundle Rejected")).toMatchObject({
      kind: "event",
      eventId: rejection.eventId,
      detail: { key, code: "VERSION_EXISTS" },
    });
  });

  it("runs again when asked through the API, pinned to the bytes it was released with", async () => {
    // Prepare
    const key = "hello/4.0.0.tar.gz";
    const bytes = await exampleBundle("tar.gz");
    await upload(key, bytes);
    const first = await endedRunOf(key);

    // Act
    const again = await api(stack, "POST", "/apps/hello/runs", {
      revision: { type: "bundle", key },
      reason: "redeploy 4.0.0",
    });

    // Assess
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(first.id);
    expect(again.body.revision).toMatchObject({
      key,
      etag: md5(bytes),
      size: bytes.length,
      sha256: sha256(bytes),
    });
    const ended = await endedRun(again.body.id);
    expect(ended.status).toBe("SUCCEEDED");
    const other = await api(stack, "POST", "/apps/hello/runs", {
      revision: { type: "bundle", key, sha256: "0".repeat(64) },
    });
    expect(other.status).toBe(409);
    expect(other.body.message).toMatch(/4.0.0.tar.gz was released with another sha256/);
  });

  it("fails at the source stage when run again after its object was replaced", async () => {
    // Prepare
    const key = "hello/5.0.0.zip";
    await upload(key, await exampleBundle("zip"));
    await endedRunOf(key);
    await upload(key, await bundle("zip", validEntries()));
    await rejectionOf(key);

    // Act
    const again = await api(stack, "POST", "/apps/hello/runs", {
      revision: { type: "bundle", key },
    });

    // Assess
    const ended = await endedRun(again.body.id);
    expect(ended.status).toBe("FAILED");
    expect(ended.stages).toEqual([
      expect.objectContaining({
        name: "source",
        status: "FAILED",
        message: expect.stringContaining(`${key} changed since it was recorded`),
      }),
    ]);
    expect(ended.error).toMatchObject({
      error: "Sluice.Conflict",
      cause: expect.stringMatching(
        /replaced the released bytes; release them again under a new version$/,
      ),
    });
    // A release or rollback of that version is refused up front, and records nothing.
    const runs = async () =>
      (await api(stack, "GET", "/apps/hello/runs?limit=100")).body.runs.length;
    const before = await runs();
    for (const path of [
      "/apps/hello/releases/5.0.0/runs",
      "/apps/hello/releases/5.0.0/runs?dryRun=true",
      "/apps/hello/releases/5.0.0/rollbacks?dryRun=true",
    ]) {
      const refused = await api(stack, "POST", path, {});
      expect(refused.status, path).toBe(409);
      expect(refused.body.message).toMatch(`${key} changed since it was recorded`);
    }
    expect(await runs()).toBe(before);
  });
});

describe("an object copied into place", () => {
  it("starts a run like an upload, though the copy's notification has no ETag locally", async () => {
    // Prepare
    const key = "hello/4.1.0.zip";
    const bytes = await exampleBundle("zip");
    await upload("incoming/hello.bin", bytes);

    // Act
    await s3.send(
      new CopyObjectCommand({
        Bucket: stack.resources.releasesBucket,
        Key: key,
        CopySource: `${stack.resources.releasesBucket}/incoming/hello.bin`,
      }),
    );
    const run = await endedRunOf(key);

    // Assess
    expect(run.status).toBe("SUCCEEDED");
    expect(run.revision).toMatchObject({ key, sha256: sha256(bytes), etag: md5(bytes) });
  });
});

describe("a key with characters S3 encodes in its notifications", () => {
  it("is decoded back to the key that was uploaded", async () => {
    const key = "hello/4.0.0+build.7.zip";
    const bytes = await exampleBundle("zip");

    await upload(key, bytes);
    const run = await endedRunOf(key);

    expect(run.revision.key).toBe(key);
    expect(run.status).toBe("SUCCEEDED");
  });
});

const without = (path: string) => validEntries().filter((entry) => entry.path !== path);
const BROKEN: [string, EntrySpec[], string, RegExp][] = [
  ["no appspec.yml", without("appspec.yml"), "NO_APPSPEC", /no appspec\.yml at its root/],
  [
    "an invalid appspec.yml",
    [...without("appspec.yml"), { path: "appspec.yml", content: "version: 0.0\nos: plan9\n" }],
    "INVALID_APPSPEC",
    /os/,
  ],
  [
    "a hook script that is missing",
    without("scripts/start.sh"),
    "MISSING_HOOK_SCRIPT",
    /hook ApplicationStart runs "scripts\/start\.sh", which is not in the bundle/,
  ],
  [
    "an entry that climbs out with ..",
    [...validEntries(), { path: "../evil.sh", content: "rm -rf /" }],
    "UNSAFE_PATH",
    /"\.\.\/evil\.sh" climbs out of the bundle root/,
  ],
  [
    "an absolute entry path",
    [...validEntries(), { path: "/etc/cron.d/evil", content: "* * * * * root sh" }],
    "UNSAFE_PATH",
    /"\/etc\/cron\.d\/evil" is an absolute path/,
  ],
  [
    "a symlink that escapes the bundle",
    [...validEntries(), { path: "conf", type: "symlink", target: "../../etc" }],
    "UNSAFE_PATH",
    /symlink "conf" -> "\.\.\/\.\.\/etc" resolves outside the bundle root/,
  ],
];

describe.each(FORMATS)("a broken bundle packed as %s", (format) => {
  it.each(BROKEN)("with %s is rejected and starts no run", async (what, entries, code, reason) => {
    // Prepare
    const slug = what.replace(/[^a-z]+/g, "-").replace(/^-|-$/g, "");
    const key = `hello/5.0.0-${slug}.${format}`;
    const bytes = await bundle(format, entries);

    // Act
    await upload(key, bytes);
    const rejection = await rejectionOf(key);

    // Assess
    expect(rejection).toMatchObject({
      bucket: stack.resources.releasesBucket,
      key,
      app: "hello",
      code,
    });
    expect(rejection.reason).toMatch(reason);
    expect(await runsOf(key)).toEqual([]);
    expect(sha256(await stored(key))).toBe(sha256(bytes));
  });
});

describe("uploads refused before the bundle is read", () => {
  it.each([
    [
      "a bundle over the size limit",
      "hello/6.0.0.zip",
      "hello",
      "TOO_LARGE",
      new RegExp(`over the limit of ${MAX_BUNDLE_BYTES} bytes`),
    ],
    [
      "a bundle of an app nobody registered",
      "ghost/1.0.0.zip",
      "ghost",
      "UNKNOWN_APP",
      /app "ghost" is not registered/,
    ],
    [
      "a key that is not <app>/<version>",
      "hello/nested/1.0.0.zip",
      undefined,
      "INVALID_KEY",
      /expected <app>\/<version>\.zip/,
    ],
    [
      "an app name in capitals",
      "Hello/1.0.0.tar.gz",
      undefined,
      "INVALID_KEY",
      /is not a release bundle/,
    ],
  ])("%s is rejected and starts no run", async (what, key, app, code, reason) => {
    // Prepare
    const entries = validEntries();
    if (what.includes("size")) {
      // Random bytes do not compress: the archive stays over the limit.
      entries.push({ path: "blob.bin", content: randomBytes(2 * MAX_BUNDLE_BYTES) });
    }
    const bytes = await bundle(key.endsWith(".zip") ? "zip" : "tar.gz", entries);

    // Act
    await upload(key, bytes);
    const rejection = await rejectionOf(key);

    // Assess
    expect(rejection.code).toBe(code);
    expect(rejection.app).toBe(app);
    expect(rejection.reason).toMatch(reason);
    if (app === "hello") expect(await runsOf(key)).toEqual([]);
    expect(sha256(await stored(key))).toBe(sha256(bytes));
  });
});

describe("the events of uploads", () => {
  it("are each described by their schema file", async () => {
    const checked = await expectEventsToMatchSchemaFiles(stack);

    expect([...checked]).toEqual(expect.arrayContaining(["Bundle Rejected", "Run Succeeded"]));
  });
});
