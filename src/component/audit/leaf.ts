import type { Value } from "convex/values";
import { canonicalJson, sha256Hex } from "../lib/hash.js";
import { commitment, leafHash } from "./merkle.js";
import { getPath, setPath } from "./redaction.js";
import { PAYLOAD_FIELDS, pick, type AuditEventInput, type EventPayload } from "./model.js";

/**
 * The canonical leaf encoding of an event. `eventLeaf` is the one function
 * that turns an event (stored, returned, revealed or not) into its leaf hash;
 * `sealedLeaf` rebuilds it from what a retention stub keeps.
 *
 * The payload digest is salted (`payloadSalt`, deleted with the payload), so
 * a retention stub cannot be tested against guesses of the deleted event, and
 * covers the idempotency digest.
 */

/** Salts are 16 random bytes, always 32 hex characters: a commitment binds its value. */
export const SALT_HEX_LENGTH = 32;
const HEX64 = /^[0-9a-f]{64}$/;
const SALT = /^[0-9a-f]{32}$/;

export function isHash(x: unknown): x is string {
  return typeof x === "string" && HEX64.test(x);
}
export function isSalt(x: unknown): x is string {
  return typeof x === "string" && SALT.test(x);
}

/** Extracts the hashed payload from a stored or returned event, dropping revealed redacted values. */
export function payloadOf(e: EventPayload): EventPayload {
  let p: EventPayload = pick(e, PAYLOAD_FIELDS);
  for (const c of e.redacted ?? []) p = setPath(p, c.path, undefined);
  // Empty containers left by removing a redacted path hash like absent ones.
  if (p.context !== undefined && Object.keys(p.context).length === 0) delete p.context;
  return p;
}

/** What the payload digest covers beyond the payload. */
type DigestExtras = { payloadSalt: string; inputHash?: string | undefined };
/** What an event's leaf commits to beyond its payload. */
type LeafExtras = DigestExtras & { recordedAt: number; retainUntil?: number | undefined };

/** The payload digest a leaf (and a retention stub) holds. */
export async function payloadHash(p: EventPayload, extras: DigestExtras): Promise<string> {
  const body = canonicalJson({ p: p as Value, input: extras.inputHash ?? null });
  return sha256Hex(`convex-guard/event/v2\n${extras.payloadSalt}\n${body}`);
}

/**
 * The leaf of an event: it commits to the payload only through its digest,
 * and to `recordedAt` and `retainUntil` in clear, so that after retention
 * deletes the payload a stub {recordedAt, retainUntil, payloadHash} still
 * rebuilds the leaf, and a retention horizon cannot be moved without breaking
 * the root.
 */
export async function sealedLeaf(h: {
  recordedAt: number;
  retainUntil?: number | undefined;
  payloadHash: string;
}): Promise<string> {
  return leafHash(
    canonicalJson({
      v: 2,
      recordedAt: h.recordedAt,
      retainUntil: h.retainUntil ?? null,
      payload: h.payloadHash,
    }),
  );
}

/** The leaf hash of an event, recomputed from its payload (never from a stored leafHash). */
export async function eventLeaf(e: EventPayload & LeafExtras): Promise<string> {
  return sealedLeaf({
    recordedAt: e.recordedAt,
    retainUntil: e.retainUntil,
    payloadHash: await payloadHash(payloadOf(e), e),
  });
}

/** Whether a revealed value matches its commitment (a fixed-length salt makes it binding). */
export async function secretMatches(
  salt: unknown,
  value: unknown,
  expected: string,
): Promise<boolean> {
  if (!isSalt(salt)) return false;
  try {
    return (await commitment(salt, value as Value)) === expected;
  } catch {
    return false;
  }
}

/**
 * Content digest for idempotency: the input as given (before defaults), with
 * the VALUES of redacted paths left out (only which of them were present
 * counts). It is stored unsalted, so hashing a redacted value would let anyone
 * who reads the table test guesses of it (an IP, an email) even after erasure.
 */
export async function inputDigest(e: AuditEventInput, redact: readonly string[]): Promise<string> {
  let clear = e;
  const present: string[] = [];
  for (const path of [...new Set(redact)].sort()) {
    if (getPath(clear, path) === undefined) continue;
    present.push(path);
    clear = setPath(clear, path, undefined);
  }
  return sha256Hex(
    `convex-guard/input/v2\n${canonicalJson({ e: clear as Value, redacted: present })}`,
  );
}
