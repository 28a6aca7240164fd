import type { Id } from "../_generated/dataModel.js";
import type { MutationCtx } from "../_generated/server.js";
import { ErrorCode, guardError } from "../lib/errors.js";
import { toHex } from "../lib/hash.js";
import { SEAL_DELAY_MS } from "../maintenance/due.js";
import { ensureMaintenance } from "../maintenance/kick.js";
import { eventLeaf, inputDigest, payloadOf } from "./leaf.js";
import { commitment } from "./merkle.js";
import { getPath, setPath } from "./redaction.js";
import {
  PAYLOAD_FIELDS,
  pick,
  subjectKey,
  tenantKey,
  type AuditEventInput,
  type Commitment,
  type EventPayload,
} from "./model.js";

/**
 * Appending an event: idempotency by `eventId`, redaction into salted
 * commitments, the leaf hash, index rows. It writes only its own rows and
 * reads only its idempotency key (and the loop state, on a stale snapshot), so
 * concurrent host mutations never conflict because of the log.
 */

function randomSaltHex(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/** The id of an earlier event with this `eventId`, or null; CONFLICT when its content differs. */
async function findRepeat(
  ctx: MutationCtx,
  tk: string,
  eventId: string,
  inputHash: string,
): Promise<Id<"auditEvents"> | null> {
  const existing = await ctx.db
    .query("auditEvents")
    .withIndex("by_tenant_eventId", (q) => q.eq("tenantKey", tk).eq("eventId", eventId))
    .first();
  if (existing === null) return null;
  if (existing.inputHash === inputHash) return existing._id;
  throw guardError(
    ErrorCode.CONFLICT,
    `eventId ${JSON.stringify(eventId)} was already logged with different content`,
  );
}

type Secret = { path: string; salt: string; value: any };

/** Moves redacted values out of the payload; a salted commitment takes each one's place. */
async function redactPayload(payload: EventPayload, redact: readonly string[]) {
  const secrets: Secret[] = [];
  const commitments: Commitment[] = [];
  for (const path of [...new Set(redact)].sort()) {
    const value = getPath(payload, path);
    if (value === undefined) continue;
    const salt = randomSaltHex();
    secrets.push({ path, salt, value });
    commitments.push({ path, commitment: await commitment(salt, value as any) });
    payload = setPath(payload, path, undefined);
  }
  if (commitments.length > 0) payload = { ...payload, redacted: commitments };
  return { payload: payloadOf(payload), secrets };
}

/**
 * Inserts one event with its leaf hash, target rows and (if redacted) secrets.
 * Inputs are checked by the caller (the public function or a system pass).
 */
export async function insertEvent(
  ctx: MutationCtx,
  now: number,
  input: AuditEventInput,
  redact: readonly string[],
  retentionMs: number | undefined,
): Promise<Id<"auditEvents">> {
  const tk = tenantKey(input.tenant);
  let inputHash: string | undefined;
  if (input.eventId !== undefined) {
    inputHash = await inputDigest(input, redact);
    const repeat = await findRepeat(ctx, tk, input.eventId, inputHash);
    if (repeat !== null) return repeat;
  }
  const given: EventPayload = pick(
    { ...input, targets: input.targets ?? [], occurredAt: input.occurredAt ?? now },
    PAYLOAD_FIELDS.filter((f) => f !== "redacted"),
  );
  const { payload, secrets } = await redactPayload(given, redact);
  const retainUntil = retentionMs === undefined ? undefined : now + retentionMs;
  const stored = pick({ ...payload, recordedAt: now, retainUntil, inputHash }, [
    ...PAYLOAD_FIELDS,
    "recordedAt",
    "retainUntil",
    "inputHash",
  ]);
  const payloadSalt = randomSaltHex();
  const id = await ctx.db.insert("auditEvents", {
    ...stored,
    payloadSalt,
    commitTs: ctx.db.vars.commitTs,
    actorKey: subjectKey(payload.actor),
    tenantKey: tk,
    leafHash: await eventLeaf({ ...stored, payloadSalt }),
  });
  const targetKeys = [...new Set(payload.targets.map(subjectKey))];
  for (const targetKey of targetKeys) {
    await ctx.db.insert("auditTargets", { event: id, targetKey, tenantKey: tk, recordedAt: now });
  }
  if (secrets.length > 0) {
    const secret = await ctx.db.insert("auditSecrets", { event: id, values: secrets });
    for (const key of new Set([subjectKey(payload.actor), ...targetKeys])) {
      await ctx.db.insert("auditSecretRefs", { subjectKey: key, secret });
    }
  }
  await ensureMaintenance(ctx, now, now + SEAL_DELAY_MS);
  return id;
}
