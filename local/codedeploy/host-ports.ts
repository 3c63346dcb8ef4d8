import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Linux's default when /proc cannot be read. */
const DEFAULT_EPHEMERAL: Range = [32768, 60999];
/** Below this are the ports people pick by hand (the stand-ins' 45xx, the fleet's 9100s). */
const LOWEST = 10_000;
const HIGHEST = 65_535;
const ATTEMPTS = 64;

type Range = [low: number, high: number];

/**
 * The system's ephemeral range, from the text of /proc/sys/net/ipv4/ip_local_port_range ("low
 * high"). A port from it can be handed to any process's port-0 listener or outgoing connection
 * between a host's registration and its app's first start, so host ports stay outside it.
 */
export function ephemeralRange(text: string | undefined): Range {
  const [low, high] = (text ?? "").trim().split(/\s+/).map(Number);
  return low && high && low <= high ? [low, high] : DEFAULT_EPHEMERAL;
}

/** The ranges host ports are drawn from: above LOWEST and outside `ephemeral`. */
export function hostPortRanges([low, high]: Range): Range[] {
  return (
    [
      [LOWEST, low - 1],
      [high + 1, HIGHEST],
    ] satisfies Range[]
  ).filter(([from, to]) => from <= to);
}

/**
 * A port for a new host's app: drawn at random outside the ephemeral range (as `rangeText`, the
 * system's by default, gives it), not in `taken`, and free on every interface right now (the app
 * listens on all of them).
 */
export async function freeHostPort(
  taken: ReadonlySet<number>,
  rangeText = readRange(),
): Promise<number> {
  const ranges = hostPortRanges(ephemeralRange(rangeText));
  const size = ranges.reduce((n, [from, to]) => n + to - from + 1, 0);
  for (let attempt = 0; size > 0 && attempt < ATTEMPTS; attempt++) {
    let index = Math.floor(Math.random() * size);
    const range = ranges.find(([from, to]) => {
      if (index <= to - from) return true;
      index -= to - from + 1;
      return false;
    });
    const port = (range?.[0] ?? LOWEST) + index;
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  // An ephemeral range over (nearly) every port leaves nothing outside it: a port the system
  // hands out is then the only kind there is.
  return ephemeralPort();
}

/**
 * The first port from `base + 1` that is not `taken` and free right now: a port something else
 * already listens on would keep the host's app from ever starting.
 */
export async function nextFreePort(base: number, taken: ReadonlySet<number>): Promise<number> {
  for (let port = base + 1; port <= HIGHEST; port++) {
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(
    `no free port for a host from ${base + 1} to ${HIGHEST}: set SLUICE_HOST_PORT_BASE lower`,
  );
}

function readRange(): string | undefined {
  try {
    return readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
  } catch {
    return undefined;
  }
}

/** Whether an app could listen on `port` on every interface right now. */
async function canListen(port: number): Promise<boolean> {
  return (await listenOnce(port)) !== undefined;
}

async function ephemeralPort(): Promise<number> {
  const port = await listenOnce(0);
  if (port === undefined) throw new Error("the system handed out no free port for a host");
  return port;
}

/**
 * Listens on `port` on every interface (0: one the system picks) and lets it go at once: the
 * port listened on, or undefined when it could not be.
 */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}
