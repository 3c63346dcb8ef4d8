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

/** The ledger over the releases the runs' claims recorded, as in the table. */
class MemoryLedger implements BundleLedger {
  constructor(private readonly runs: MemoryRuns) {}
  async release(app: string, version: string) {
    const taken = this.runs.claims.get(`release#${app}#${version}`);
    return taken?.kind === "release" ? taken.holder : undefined;
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
  const runs = new MemoryRuns();
  ports = {
    apps: new MemoryApps(),
    runs,
    queue: new MemoryQueue(),
    events: new MemoryEvents(),
    executions: new MemoryExecutions(),
    clock: steppingClock(Date.parse("2026-01-01T00:00:05Z")),
    ledger: new MemoryLedger(runs),
    downloads: noDownloads,
  };
  await ports.apps.put({
    name: "hello",
    pipeline: { executionMode: "queued", triggers: [], stages: [] },
    createdAt: release.recordedAt,
    updatedAt: release.recordedAt,
  });
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
    [{ kind: "release", release }],
  );
});

const redeliver = () =>
  receiveBundle(ports, redelivery, { limits: DEFAULT_BUNDLE_LIMITS, workDir: tmpdir() });

describe("a redelivery of a recorded release", () => {
  it("answers with the release's run, reads nothing and starts nothing", async () => {
    const outcome = await redeliver();
    const again = await redeliver();

    expect(outcome).toEqual({ outcome: "duplicate", runId: RUN_ID });
    expect(again).toEqual(outcome);
    expect(ports.runs.items.size).toBe(1);
    expect(ports.executions.started).toEqual([]);
  });
});
