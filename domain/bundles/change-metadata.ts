import type { ChangeFacts, RunChange } from "../run";
import { runChangeOf } from "../run";

/**
 * The user metadata (`x-amz-meta-<key>`) a bundle's change travels in, from `sluice push` or any
 * uploader to the run it starts. S3 lower-cases metadata keys.
 */
export const CHANGE_METADATA_KEYS = {
  message: "sluice-commit-message",
  name: "sluice-author-name",
  email: "sluice-author-email",
} as const;

/**
 * S3's limit on an object's user metadata: the UTF-8 bytes of every key and value together.
 * The keys are counted here with their `x-amz-meta-` prefix, to stay under it either way.
 */
export const MAX_USER_METADATA_BYTES = 2048;
const PREFIX_BYTES = "x-amz-meta-".length;

/** One RFC 2047 encoded word holds at most 75 characters: 12 of framing, 60 of base64. */
const ENCODED_WORD_BYTES = 45;
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
/** Values S3 keeps and returns as they are: printable ASCII, not starting or ending in a space. */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The metadata that carries a change, within `budget` bytes (S3's limit less what the upload's
 * other metadata takes). Header values are ASCII, and S3 leaves out values with characters it
 * cannot print, such as a message's newlines: a value that is not plain printable ASCII goes as
 * RFC 2047 encoded words of its UTF-8 (`=?UTF-8?B?...?=`), the form S3 itself returns non-ASCII
 * metadata in. The email goes whole or not at all, the name and then the message are cut to fit.
 */
export function changeMetadata(
  facts: Omit<ChangeFacts, "username">,
  budget = MAX_USER_METADATA_BYTES,
): Record<string, string> {
  const change = runChangeOf(facts);
  const metadata: Record<string, string> = {};
  let left = budget;
  const fields: [keyof typeof CHANGE_METADATA_KEYS, string | undefined, boolean][] = [
    ["email", change?.author?.email, false],
    ["name", change?.author?.name, true],
    ["message", change?.message, true],
  ];
  for (const [field, value, mayCut] of fields) {
    if (value === undefined) continue;
    const key = CHANGE_METADATA_KEYS[field];
    const room = left - PREFIX_BYTES - key.length;
    const encoded = mayCut ? longestFitting(value, room) : fitting(encodeValue(value), room);
    if (encoded === undefined) continue;
    metadata[key] = encoded;
    left = room - encoded.length;
  }
  return metadata;
}

/** The change an upload's metadata carries (as S3 returns it, keys without their prefix). */
export function changeFromMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
): RunChange | undefined {
  if (metadata === undefined) return undefined;
  const read = (key: string) => {
    const value = metadata[key];
    return value === undefined ? undefined : decodeValue(value);
  };
  return runChangeOf({
    message: read(CHANGE_METADATA_KEYS.message),
    name: read(CHANGE_METADATA_KEYS.name),
    email: read(CHANGE_METADATA_KEYS.email),
  });
}

/** The value as it goes into a header: as it is when S3 keeps it so, else encoded words. */
function encodeValue(value: string): string {
  if (PLAIN_VALUE.test(value) && !value.includes("=?")) return value;
  const words: string[] = [];
  let chunk = "";
  for (const char of value) {
    if (byteLength(chunk + char) > ENCODED_WORD_BYTES) {
      words.push(encodedWord(chunk));
      chunk = "";
    }
    chunk += char;
  }
  if (chunk !== "") words.push(encodedWord(chunk));
  return words.join(" ");
}

/**
 * Reads a header value: RFC 2047 encoded words (B or Q, in any charset TextDecoder knows) are
 * decoded, and the white space between two of them dropped, as RFC 2047 says; the rest is kept.
 */
export function decodeValue(value: string): string {
  const between = /\?=\s+=\?/g;
  return value
    .replace(between, "?==?")
    .replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
      try {
        const bytes = encoding.toUpperCase() === "B" ? Buffer.from(text, "base64") : qBytes(text);
        return new TextDecoder(charset, { fatal: true }).decode(bytes);
      } catch {
        return word;
      }
    });
}

function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;
}

function qBytes(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "_") bytes.push(0x20);
    else if (char === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Uint8Array.from(bytes);
}

function fitting(encoded: string, room: number): string | undefined {
  return encoded.length <= room ? encoded : undefined;
}

/** The encoding of the longest start of `value` (whole characters) that fits in `room`. */
function longestFitting(value: string, room: number): string | undefined {
  const whole = encodeValue(value);
  if (whole.length <= room) return whole;
  const chars = Array.from(value);
  let [low, high] = [0, chars.length - 1];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (encodeValue(chars.slice(0, middle).join("")).length <= room) low = middle;
    else high = middle - 1;
  }
  return low === 0 ? undefined : encodeValue(chars.slice(0, low).join(""));
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
