import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";

/**
 * Locally, people reach the `/api` routes with one bearer token instead of an OIDC provider's
 * JWT: random, kept in the state folder (`ui-token`, readable by its owner only) so the URL
 * `npm start` printed keeps working across restarts. It is printed once, never logged.
 */
export interface LocalPerson {
  token: string;
  /** What API Gateway's JWT authorizer would hand the function: the claims of the token. */
  claims: { email: string; sub: string };
}

const TOKEN_FILE = "ui-token";

export async function localPerson(
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalPerson> {
  const file = path.join(stateDir, TOKEN_FILE);
  let token = (await readFile(file, "utf8").catch(() => "")).trim();
  if (!/^[\w-]{43}$/.test(token)) {
    token = randomBytes(32).toString("base64url");
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
  }
  const user = env.SLUICE_LOCAL_USER || userInfo().username;
  return {
    token,
    claims: { email: env.SLUICE_LOCAL_EMAIL || `${user}@localhost`, sub: `local-${user}` },
  };
}

/** Whether an `Authorization` header carries the token, compared in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
