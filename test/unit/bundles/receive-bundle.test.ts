import { tmpdir } from "node:os";
import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_BUNDLE_LIMITS } from "../../../domain/bundles/limits";
import type { BundleRejection, BundleRelease } from "../../../domain/bundles/release-record";
import type { BundleDownloads, BundleLedger } from "../../../domain/ports";
import { receiveBundle, type UploadedObject } from "../../../usecases/receive-bundle";
import {
  MemoryApps,
  MemoryEvents,
  MemoryExecutions,
  MemoryQueue,
  MemoryRuns,
  steppingClock,
} from "../../support/fakes";

/** The ledger's conditions, in memory. */
class MemoryLedger implements BundleLedger {
  readonly releases = new Map<string, BundleRelease>();
  async release(app: string, version: string) {
    return this.releases.get(`${app}/${version}`);
  }
  async claim(release: BundleRelease) {
    const key = `${release.app}/${release.version}`;
    if (this.releases.has(key)) return false;
    this.releases.set(key, release);
    return true;
  }
  async reassign(release: BundleRelease, runId: string) {
    const key = `${release.app}/${release.version}`;
    const held = this.releases.get(key);
    if (held?.runId !== release.runId) return false;
    this.releases.set(key, { ...held, runId });
    return true;
  }
  async recordRejection(_: BundleRejection) {}
  async history() {
    return { release: undefined, rejections: [] };
  }
}

/** Every download of these tests would be a mistake: a recorded release is never read again. */
const noDownloads: BundleDownloads = {
  download: () => Promise.reject(new Error("the bundle was downloaded again")),
};

const RUN_ID = "01JNH0000000000000000ABCDE";
const release: BundleRelease = {
  app: "hello",
  version: "1.0.0",
  bucket: "releases",
  key: "hello/1.0.0.zip",
  etag: "etag-1",
  size: 1234,
  sha256: "a".repeat(64),
  runId: RUN_ID,
  recordedAt: "2026-01-01T00:00:00.000Z",
};
const redelivery: UploadedObject = {
  bucket: "releases",
  key: release.key,
  size: release.size,
  etag: release.etag,
};

let ports: {
  apps: MemoryApps;
  runs: MemoryRuns;
  queue: MemoryQueue;
  events: MemoryEvents;
  executions: MemoryExecutions;
  clock: ReturnType<typeof steppingClock>;
  ledger: MemoryLedger;
  downloads: BundleDownloads;
};

beforeEach(async () => {
  ports = {
    apps: new MemoryApps(),
    runs: new MemoryRuns(),
    queue: new MemoryQueue(),
    events: new MemoryEvents(),
    executions: new MemoryExecutions(),
    clock: steppingClock(Date.parse("2026-01-01T00:00:05Z")),
    ledger: new MemoryLedger(),
    downloads: noDownloads,
  };
  await ports.apps.put({
    name: "hello",
    pipeline: { executionMode: "queued", triggers: [], stages: [] },
    createdAt: release.recordedAt,
    updatedAt: release.recordedAt,
  });
  await ports.ledger.claim(release);
});

const redeliver = () =>
  receiveBundle(ports, redelivery, { limits: DEFAULT_BUNDLE_LIMITS, workDir: tmpdir() });

describe("a redelivery of a release whose first delivery stopped half-way", () => {
  it("creates the recorded run when the first delivery died before creating it", async () => {
    const outcome = await redeliver();

    expect(outcome).toEqual({ outcome: "started", runId: RUN_ID });
    expect(ports.executions.started).toEqual([RUN_ID]);
  });

  it("lets in a run that was recorded but never let in", async () => {
    await ports.runs.create(
      {
        id: RUN_ID,
        app: "hello",
        status: "QUEUED",
        revision: { type: "bundle", key: release.key },
        trigger: { type: "upload" },
        createdAt: release.recordedAt,
        updatedAt: release.recordedAt,
        plan: { steps: [{ id: "source", kind: "source" }] },
        cursor: -1,
        attempt: 1,
        retries: [],
      },
      [],
    );

    const outcome = await redeliver();

    expect(outcome).toEqual({ outcome: "duplicate", runId: RUN_ID });
    expect(ports.executions.started).toEqual([RUN_ID]);
  });

  it("starts a new run of the release when the first one's pipeline could not start", async () => {
    ports.executions.failNext = true;
    await expect(redeliver()).rejects.toMatchObject({ kind: "Transient" });

    const outcome = await redeliver();
    const again = await redeliver();

    expect(outcome).toMatchObject({ outcome: "started" });
    const retried = (outcome as { runId: string }).runId;
    expect(retried).not.toBe(RUN_ID);
    expect((await ports.runs.get(RUN_ID))?.status).toBe("FAILED");
    expect((await ports.ledger.release("hello", "1.0.0"))?.runId).toBe(retried);
    expect(again).toEqual({ outcome: "duplicate", runId: retried });
    expect(ports.executions.started).toEqual([retried]);
  });

  it("starts nothing more once the run is under way", async () => {
    await redeliver();

    const outcome = await redeliver();

    expect(outcome).toEqual({ outcome: "duplicate", runId: RUN_ID });
    expect(ports.executions.started).toEqual([RUN_ID]);
  });
});
