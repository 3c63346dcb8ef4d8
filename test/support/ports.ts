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

/** `count` ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => holdPort(0)));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map(release));
  return ports;
}

export async function isFree(port: number): Promise<boolean> {
  try {
    await release(await holdPort(port));
    return true;
  } catch {
    return false;
  }
}
