import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * `npm run package` and `npm run deploy`: osls with these arguments, given a temporary folder of
 * its own that is removed once it exits. serverless-esbuild 1.57 stages each function's zip in a
 * folder of the system's temporary folder and never removes it (its non-recursive remove fails
 * on a folder that is not empty, and the error is swallowed): about 30 MB left in /tmp by every
 * packaging otherwise.
 */
const osls = path.resolve(import.meta.dirname, "../node_modules/.bin/osls");
const own = mkdtempSync(path.join(tmpdir(), "sluice-osls-"));
const child = spawn(osls, process.argv.slice(2), {
  stdio: "inherit",
  env: { ...process.env, TMPDIR: own },
});
// Ctrl-C reaches osls too (same process group); a TERM sent to this process alone is passed on.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  rmSync(own, { recursive: true, force: true });
  process.stderr.write(`could not run osls: ${error.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  rmSync(own, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
