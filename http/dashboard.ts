import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiResult } from "./api";

/**
 * The dashboard's files (ui/: one page, its style and its ES modules), read once per cold start
 * and served as they are. The page gets its data from the people's `/api` routes with a bearer
 * token; these files hold none, so they need no authorizer. The policy lets the page run only
 * its own scripts and styles, and talk only to this API and the sign-in provider.
 */

/** ui/ beside functions/ and http/, here and in the function's package alike. */
const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "ui");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

let files: Map<string, string> | undefined;

function uiFiles(): Map<string, string> {
  files ??= new Map(
    readdirSync(UI_DIR)
      .filter((name) => TYPES[path.extname(name)])
      .map((name) => [name, readFileSync(path.join(UI_DIR, name), "utf8")]),
  );
  return files;
}

/** How the page signs a person in with the team's OIDC provider; none locally (a printed token). */
export interface SignIn {
  issuer: string;
  clientId: string;
}

export function signInOf(env: NodeJS.ProcessEnv): SignIn | undefined {
  const issuer = env.SLUICE_OIDC_ISSUER;
  const clientId = env.SLUICE_OIDC_CLIENT_ID;
  return issuer && clientId && URL.canParse(issuer) ? { issuer, clientId } : undefined;
}

function headers(type: string, signIn: SignIn | undefined, tokenOrigin?: string) {
  const connect = ["'self'", signIn && new URL(signIn.issuer).origin, tokenOrigin]
    .filter(Boolean)
    .join(" ");
  return {
    "content-type": type,
    "cache-control": "no-cache",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src ${connect}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  };
}

/**
 * A file of the dashboard by its name (the page for none), or its settings as `config.json`;
 * undefined for a name that is none of them.
 */
export function dashboardFile(
  name: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ApiResult | undefined {
  const signIn = signInOf(env);
  const tokenOrigin = env.SLUICE_OIDC_TOKEN_ORIGIN;
  if (name === "config.json") {
    return {
      statusCode: 200,
      headers: headers("application/json", signIn, tokenOrigin),
      body: JSON.stringify({ signIn: signIn ?? null }),
    };
  }
  const file = name ?? "index.html";
  const body = uiFiles().get(file);
  const type = TYPES[path.extname(file)];
  if (body === undefined || !type) return undefined;
  return { statusCode: 200, headers: headers(type, signIn, tokenOrigin), body };
}
