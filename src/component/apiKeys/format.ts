import { encodeFields, randomIndices } from "../codes/crypto.js";
import { sha256Hex, utf8 } from "../lib/hash.js";
import { floor } from "../lib/math.js";

/*
 * The API key format. Pure: no ctx, only WebCrypto. It runs host-side (in the
 * `ApiKeys` client), so the plaintext key never reaches the component:
 *
 *   <prefix>_<keyId>_<secret><checksum>      e.g. sk_live_4fQ…Zk_Jx9…pQ8r1Tb
 *
 * - prefix: the host's visible label ("sk_live"), for humans and secret scanners.
 * - keyId: 16 base62 characters (95 random bits), public; the row's lookup key.
 * - secret: 43 base62 characters from crypto.getRandomValues, 256.03 bits.
 * - checksum: CRC-32 of everything before it, 6 base62 characters, so a
 *   mistyped or truncated key is rejected as malformed before any read.
 *
 * Base62 keeps the key one "word" (double-click selects it; no URL escaping).
 * The component stores only `digestSecret(prefix, keyId, secret)`.
 */

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const KEY_ID_LENGTH = 16;
/** 62^43 > 2^256: 43 uniform base62 characters carry at least 256 bits. */
export const SECRET_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const MAX_PREFIX_LENGTH = 32;
/** Longer input is malformed without being parsed (the longest well-formed key is 99 characters). */
export const MAX_KEY_LENGTH =
  MAX_PREFIX_LENGTH + 1 + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

const DIGEST_DOMAIN = "convex-guard/api-key/v1";
const PREFIX_RE = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/;
const KEY_ID_RE = new RegExp(`^[0-9A-Za-z]{${KEY_ID_LENGTH}}$`);
const TAIL_RE = new RegExp(`^[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);

/** Letters, digits and single underscores between them, starting with a letter, at most 32 characters. */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === "string" && prefix.length <= MAX_PREFIX_LENGTH && PREFIX_RE.test(prefix);
}

export function isValidKeyId(keyId: unknown): keyId is string {
  return typeof keyId === "string" && KEY_ID_RE.test(keyId);
}

/** A hex SHA-256 digest (64 lower-case hex characters). */
export function isValidDigest(digest: unknown): digest is string {
  return typeof digest === "string" && /^[0-9a-f]{64}$/.test(digest);
}

/** `length` uniform base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number, random?: (b: Uint8Array) => void): string {
  return randomIndices(BASE62.length, length, random)
    .map((i) => BASE62[i])
    .join("");
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib) of the UTF-8 bytes of `s`. */
export function crc32(s: string): number {
  let c = 0xffffffff;
  // The index is masked to 0..255 and the table has 256 entries, so the read is always defined.
  for (const b of utf8(s)) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** `n` in base62, left-padded with "0" to `length` characters. */
export function toBase62(n: number, length: number): string {
  let s = "";
  for (let x = n; x > 0; x = floor(x / 62)) s = BASE62[x % 62] + s;
  return s.padStart(length, "0");
}

function checksum(body: string): string {
  return toBase62(crc32(body), CHECKSUM_LENGTH);
}

/** A new key for `prefix` (which must be valid). The caller shows it once and keeps only its digest. */
export function generateKey(
  prefix: string,
  keyId: string = randomBase62(KEY_ID_LENGTH),
): { keyId: string; secret: string; key: string } {
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${prefix}_${keyId}_${secret}`;
  return { keyId, secret, key: body + checksum(body) };
}

export type ParsedKey = { keyId: string; secret: string };

/**
 * The key id and secret of a well-formed key with this prefix, else null.
 * Never throws, for any input: a non-string, an oversized string, another
 * prefix, a wrong length or character, or a bad checksum are all null.
 */
export function parseKey(key: unknown, prefix: string): ParsedKey | null {
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH) return null;
  const tailAt = key.lastIndexOf("_");
  const idAt = key.lastIndexOf("_", tailAt - 1);
  if (idAt <= 0 || key.slice(0, idAt) !== prefix) return null;
  const keyId = key.slice(idAt + 1, tailAt);
  const tail = key.slice(tailAt + 1);
  if (!KEY_ID_RE.test(keyId) || !TAIL_RE.test(tail)) return null;
  const secret = tail.slice(0, SECRET_LENGTH);
  if (tail.slice(SECRET_LENGTH) !== checksum(`${prefix}_${keyId}_${secret}`)) return null;
  return { keyId, secret };
}

/**
 * What the component stores and compares: hex SHA-256 over the framed
 * (domain, prefix, keyId, secret). The secret is 256 random bits, so a fast
 * hash is enough (nothing to brute-force). Binding the key id means a digest
 * copied to another row matches nothing; binding the prefix means a key
 * re-labelled with another instance's prefix (and a recomputed checksum)
 * verifies nowhere.
 */
export async function digestSecret(prefix: string, keyId: string, secret: string): Promise<string> {
  return sha256Hex(encodeFields([DIGEST_DOMAIN, prefix, keyId, secret]));
}
