import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import { main } from "../../cli/main";

/**
 * An API for one test that answers every request with `answer(request)` as JSON, with the
 * status `status(request)` (200 unless told); its address.
 */
export async function serve(
  answer: (req: IncomingMessage) => unknown,
  status: (req: IncomingMessage) => number = () => 200,
): Promise<string> {
  const server = createServer((req, res) => {
    res.statusCode = status(req);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(answer(req)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `sluice <args> --api <api>` in this process, with no terminal: its exit code and all it wrote. */
export async function sluiceAt(
  api: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await main([...args, "--api", api], {
    stdout: (text) => out.push(text),
    stderr: (text) => out.push(text),
    env,
  });
  return { code, text: out.join("") };
}
