import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ephemeralRange, freeHostPort, hostPortRanges } from "../../local/codedeploy/host-ports";

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
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
