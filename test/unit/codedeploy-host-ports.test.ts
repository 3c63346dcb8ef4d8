import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  ephemeralRange,
  freeHostPort,
  hostPortRanges,
  nextFreePort,
} from "../../local/codedeploy/host-ports";
import { holdPort, release } from "../support/ports";

describe("host ports of the local fleet", () => {
  it("reads the system's ephemeral range, and falls back to Linux's default when it cannot", () => {
    expect(ephemeralRange("32768\t60999\n")).toEqual([32768, 60999]);
    expect(ephemeralRange("1024 65535")).toEqual([1024, 65535]);
    expect(ephemeralRange(undefined)).toEqual([32768, 60999]);
    expect(ephemeralRange("garbage")).toEqual([32768, 60999]);
    expect(ephemeralRange("50000 40000")).toEqual([32768, 60999]);
  });

  it("draws from below and above the ephemeral range, never from it or below 10000", () => {
    expect(hostPortRanges([32768, 60999])).toEqual([
      [10000, 32767],
      [61000, 65535],
    ]);
    expect(hostPortRanges([1024, 65535])).toEqual([]);
    expect(hostPortRanges([20000, 65535])).toEqual([[10000, 19999]]);
  });

  it("gives ports outside this machine's ephemeral range that are free and not already taken", async () => {
    const [low, high] = ephemeralRange(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8"),
    );
    const taken = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await freeHostPort(taken);
      expect(port < low || port > high, `${port} in ${low}-${high}`).toBe(true);
      expect(port).toBeGreaterThanOrEqual(10000);
      expect(taken.has(port)).toBe(false);
      taken.add(port);
      // Free: an app can listen on it on every interface.
      expect(await listensThere(port)).toBe(true);
    }
  });

  it("takes a port the system hands out when its ephemeral range leaves none outside it", async () => {
    const port = await freeHostPort(new Set(), "1024 65535");

    expect(port).toBeGreaterThanOrEqual(1024);
    expect(await listensThere(port)).toBe(true);
  });

  it("from a fixed base, skips the ports taken and those something listens on, up to 65535", async () => {
    const busy = await holdPort(0);
    const held = (busy.address() as { port: number }).port;
    try {
      expect(await nextFreePort(held - 1, new Set())).toBeGreaterThan(held);
      expect(await nextFreePort(held - 3, new Set([held - 2, held - 1]))).toBeGreaterThan(held);
      await expect(nextFreePort(65_535, new Set())).rejects.toThrow(
        "no free port for a host from 65536 to 65535: set SLUICE_HOST_PORT_BASE lower",
      );
    } finally {
      await release(busy);
    }
  });
});

/** Whether an app can listen on `port` on every interface; a taken port fails the test. */
async function listensThere(port: number): Promise<boolean> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, resolve);
  });
  await new Promise((resolve) => server.close(resolve));
  return true;
}
