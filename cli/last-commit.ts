import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ChangeFacts } from "../domain/run";

const run = promisify(execFile);

/**
 * The author and whole message of the last commit of the git work tree `cwd` is in; undefined
 * outside one, or where git is not installed.
 */
export async function lastCommit(cwd: string): Promise<ChangeFacts | undefined> {
  try {
    // NUL cannot be in a name, an email or a message, so it splits them safely.
    const { stdout } = await run("git", ["log", "-1", "--format=%an%x00%ae%x00%B"], {
      cwd,
      timeout: 10_000,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    const [name, email, message] = stdout.split("\0");
    return { name, email, message };
  } catch {
    return undefined;
  }
}
