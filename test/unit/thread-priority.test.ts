import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { TSX_LOADER } from "../../local/worker-threads";

describe("niceThisThread", () => {
  it.runIf(existsSync("/proc/thread-self"))(
    "lowers the priority of the thread it runs on, and of no other",
    async () => {
      // Act
      const worker = new Worker(new URL("../support/nice-probe.ts", import.meta.url), {
        workerData: 7,
        execArgv: ["--import", TSX_LOADER],
      });
      const seen = await new Promise<{ applied: boolean; nice: number; processNice: number }>(
        (resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
        },
      );
      await worker.terminate();

      // Assess
      expect(seen.applied).toBe(true);
      expect(seen.nice).toBe(7);
      expect(seen.processNice).not.toBe(7);
    },
  );
});
