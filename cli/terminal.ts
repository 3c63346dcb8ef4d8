import { createInterface } from "node:readline/promises";
import { CliError } from "./errors";

/** Where the CLI reads from: a pipe or file, or a terminal a person answers on. */
export interface Input {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The terminal questions go to; only asked when stdin is one too. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Asks `question [y/N]` on the terminal: only `y` or `yes` goes on. Without a terminal there is
 * nobody to ask, so the caller must have said `--yes` (`what` says what it would confirm).
 */
export async function confirm(
  input: Input | undefined,
  question: string,
  what: string,
): Promise<boolean> {
  if (!input?.stdin.isTTY || !input.stdout.isTTY) {
    throw new CliError(`no terminal to confirm ${what} on: pass --yes to go ahead without asking`);
  }
  const prompt = createInterface({ input: input.stdin, output: input.stdout });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/**
 * A secret piped in (`--secret-stdin`), never taken from the command line, where the shell's
 * history and `ps` would show it. One trailing newline (what `echo` adds) is not part of it.
 */
export async function readSecret(input: Input | undefined): Promise<string> {
  if (!input) throw new CliError("--secret-stdin: this CLI has no stdin to read from");
  if (input.stdin.isTTY) {
    throw new CliError(
      "--secret-stdin reads the secret from a pipe or file: sluice apps webhook-secret <app> --secret-stdin < secret.txt",
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of input.stdin) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  const secret = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (secret === "") throw new CliError("--secret-stdin read no secret from stdin");
  return secret;
}
