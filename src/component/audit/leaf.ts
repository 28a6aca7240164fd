import type { Value } from "convex/values";
import { canonicalJson, sha256Hex } from "../lib/hash.js";
import { leafHash } from "./merkle.js";
import { getPath, setPath } from "./redaction.js";
import { PAYLOAD_FIELDS, pick, type AuditEventInput, type EventPayload } from "./model.js";

/**
 * The canonical leaf encoding of an event. `eventLeaf` is the one function
 * that turns an event (stored, returned, revealed or not) into its leaf hash;
 * `sealedLeaf` rebuilds it from what a retention stub keeps.
 */

/** Extracts the hashed payload from a stored or returned event, dropping revealed redacted values. */
export function payloadOf(e: EventPayload): EventPayload {
  let p: EventPayload = pick(e, PAYLOAD_FIELDS);
  for (const c of e.redacted ?? []) p = setPath(p, c.path, undefined);
  // Empty containers left by removing a redacted path hash like absent ones.
  if (p.context !== undefined && Object.keys(p.context).length === 0) delete p.context;
  return p;
}

export async function payloadHash(p: EventPayload): Promise<string> {
  return sha256Hex(`convex-guard/event/v1\n${canonicalJson(p as Value)}`);
}

/**
 * The leaf of an event: it commits to the payload only through its hash, and
 * to `recordedAt` and `retainUntil` in clear, so that after retention deletes
 * the payload a stub {recordedAt, retainUntil, payloadHash} still rebuilds the
 * leaf, and a retention horizon cannot be moved without breaking the root.
 */
export async function sealedLeaf(h: {
  recordedAt: number;
  retainUntil?: number;
  payloadHash: string;
}): Promise<string> {
  return leafHash(
    canonicalJson({
      v: 1,
      recordedAt: h.recordedAt,
      retainUntil: h.retainUntil ?? null,
      payload: h.payloadHash,
    }),
  );
}

/** The leaf hash of an event, recomputed from its payload (never from a stored leafHash). */
export async function eventLeaf(
  e: EventPayload & { recordedAt: number; retainUntil?: number },
): Promise<string> {
  return sealedLeaf({
    recordedAt: e.recordedAt,
    retainUntil: e.retainUntil,
    payloadHash: await payloadHash(payloadOf(e)),
  });
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
