import { createServer, type Server } from "node:net";

/** A server holding `port` on loopback (0: any free one). */
export function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

export function release(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Where freePorts picks from: below the range the kernel hands out to sockets that ask for no
 * port (32768 and up on Linux, 49152 on macOS), and above the test fleets' hosts (20000 and up,
 * a hundred a test worker: workerHostPortBase in local-stack.ts).
 */
const LOWEST = 22_000;
const HIGHEST = 32_000;

/**
 * `count` ports that were free a moment ago, from a range no connection another test makes
 * meanwhile can take as its own port, nor a test fleet's host.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (!ports.has(port) && (await isFree(port))) ports.add(port);
  }
  return [...ports];
}

export async function isFree(port: number): Promise<boolean> {
  try {
    await release(await holdPort(port));
    return true;
  } catch {
    return false;
  }
}
