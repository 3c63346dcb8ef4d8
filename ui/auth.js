/**
 * The person's token. Locally it comes once in the address `npm start` printed (`?token=`); in
 * AWS from the team's OIDC provider, by the authorization code flow with PKCE (the page is a
 * public client: no secret). Either way it lives in sessionStorage for the tab's life, goes
 * out only as `Authorization: Bearer`, and is taken out of the address bar at once.
 */
const KEY = "sluice-token";
const PENDING = "sluice-sign-in";

export function token() {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

/** The email the token's claims name, when it is a JWT (locally the token is opaque). */
export function signedInEmail() {
  const payload = token()?.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.email === "string" ? claims.email : undefined;
  } catch {
    return undefined;
  }
}

function cleanAddress(url) {
  for (const name of ["token", "code", "state", "session_state", "iss"])
    url.searchParams.delete(name);
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function discovery(issuer) {
  const res = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the sign-in provider answered ${res.status}`);
  return res.json();
}

/**
 * Takes a token the address brings (the printed local URL, or the provider's redirect back),
 * keeps it and cleans the address. Resolves to whether the page has a token.
 */
export async function adoptToken(signIn) {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    cleanAddress(url);
  }
  const code = url.searchParams.get("code");
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  if (code && signIn && pending && url.searchParams.get("state") === pending.state) {
    sessionStorage.removeItem(PENDING);
    cleanAddress(url);
    const config = await discovery(signIn.issuer);
    const res = await fetch(config.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        client_id: signIn.clientId,
        redirect_uri: pending.redirect,
        code_verifier: pending.verifier,
      }),
    });
    const answer = await res.json();
    // The ID token: its audience is the client id the JWT authorizer expects, and it has email.
    if (answer.id_token) sessionStorage.setItem(KEY, answer.id_token);
    if (pending.hash) location.hash = pending.hash;
  }
  return token() !== undefined;
}

/** Sends the person to the provider's sign-in; it comes back to this page with a code. */
export async function signInWith(signIn) {
  const config = await discovery(signIn.issuer);
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const redirect = location.origin + location.pathname;
  sessionStorage.setItem(
    PENDING,
    JSON.stringify({ verifier, state, redirect, hash: location.hash }),
  );
  const query = new URLSearchParams({
    response_type: "code",
    client_id: signIn.clientId,
    redirect_uri: redirect,
    scope: "openid email",
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  });
  location.assign(`${config.authorization_endpoint}?${query}`);
}
