import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * An approval link's token: 32 random bytes, and a truncated HMAC-SHA256 of them under the
 * stack's link key, both base64url. The signature lets a forged token be refused before any
 * lookup; the random part is what makes it unguessable. Only its SHA-256 is ever stored.
 */
const RANDOM_BYTES = 32;
const SIGNATURE_BYTES = 16;
const TOKEN = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/;
/** Keeps the key's signatures for links apart from anything else it might ever sign. */
const PURPOSE = "sluice approval link v1:";

export function newLinkToken(key: Uint8Array): string {
  const random = randomBytes(RANDOM_BYTES).toString("base64url");
  return `${random}.${signatureOf(key, random).toString("base64url")}`;
}

/** Whether the token is one this key signed; compared in constant time. */
export function isSignedLinkToken(key: Uint8Array, token: string): boolean {
  const parts = TOKEN.exec(token);
  if (!parts?.[1] || !parts[2]) return false;
  const given = Buffer.from(parts[2], "base64url");
  const expected = signatureOf(key, parts[1]);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What the table keeps of a token: its SHA-256, hex. */
export function linkTokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function signatureOf(key: Uint8Array, random: string): Buffer {
  return createHmac("sha256", key)
    .update(PURPOSE + random)
    .digest()
    .subarray(0, SIGNATURE_BYTES);
}
