import type { Doc } from "../_generated/dataModel.js";
import type { DatabaseReader, MutationCtx, QueryCtx } from "../_generated/server.js";
import { consumeRateLimit, peekRateLimit } from "../rateLimits/store.js";
import type { RateLimitConfigArg } from "../rateLimits/model.js";
import type { ComponentVerifyResult, DenialDetail, VerifyReason } from "./model.js";
import {
  CALL_LIMIT_NAME,
  DENIAL_LIMIT_NAME,
  assertCallLimit,
  assertDenialLimit,
  assertDigest,
  assertKeyId,
  assertScopeName,
  refusal,
  shouldTouch,
  type DenialLimit,
  type Refusal,
} from "./rules.js";

/*
 * Verification. The client has already parsed the key (a malformed one never
 * gets here) and digested its secret; this module sees the key id and the
 * digest only. A valid key costs one read (plus the limiter's when `limit`
 * is set); in a mutation it also writes `lastUsedAt` at most once a minute.
 */

export type VerifyArgs = {
  keyId: string;
  digest: string;
  scope?: string;
  limit?: RateLimitConfigArg;
  denialLimit: DenialLimit;
  /** Whether the host logs denials (it has an audit log). */
  audit: boolean;
};

/** Validates verification arguments (throws before any read). */
export function assertVerifyArgs(args: VerifyArgs): void {
  assertKeyId(args.keyId);
  assertDigest(args.digest);
  if (args.scope !== undefined) assertScopeName(args.scope);
  if (args.limit !== undefined) assertCallLimit(args.limit);
  assertDenialLimit(args.denialLimit);
}

export async function findKey(db: DatabaseReader, keyId: string): Promise<Doc<"apiKeys"> | null> {
  return db
    .query("apiKeys")
    .withIndex("by_keyId", (q) => q.eq("keyId", keyId))
    .unique();
}

function callLimit(keyId: string, config: RateLimitConfigArg) {
  return { name: CALL_LIMIT_NAME, key: keyId, config };
}

function verified(row: Doc<"apiKeys">): ComponentVerifyResult {
  return {
    ok: true,
    keyId: row.keyId,
    name: row.name,
    owner: { type: row.ownerType, id: row.ownerId },
    scopes: row.scopes,
  };
}

const DETAIL: Record<Refusal, DenialDetail> = {
  unknown: "unknown_key",
  wrong_secret: "wrong_secret",
  revoked: "revoked",
  expired: "expired",
  scope: "scope",
};
/** What the caller is told: a wrong secret looks exactly like an unknown key. */
const ANSWER: Record<DenialDetail, VerifyReason> = {
  unknown_key: "unknown",
  wrong_secret: "unknown",
  revoked: "revoked",
  expired: "expired",
  scope: "scope",
  rate_limited: "rate_limited",
};

/** Refusals a caller without the key's secret can provoke: answered alike, from one budget. */
const GUESSES: ReadonlySet<DenialDetail> = new Set(["unknown_key", "wrong_secret"]);

/**
 * A denial in a mutation. Each one takes from the denial budget of the key id
 * presented, whether or not a key has it: the same document is read and
 * written either way, so neither the answer nor the cost tells which ids
 * exist. Within the budget the denial is counted and the client may log it;
 * beyond it nothing is written, and a wrong secret or an unknown id is
 * answered `rate_limited`. The right secret still verifies (256-bit secrets
 * cannot be guessed, so locking the key out would only hand a flood a denial
 * of service).
 */
async function deny(
  ctx: MutationCtx,
  args: VerifyArgs,
  detail: DenialDetail,
  now: number,
  retryAfter?: number,
): Promise<ComponentVerifyResult> {
  const budget = await consumeRateLimit(
    ctx,
    {
      name: DENIAL_LIMIT_NAME,
      key: args.keyId,
      config: {
        kind: "sliding window",
        rate: args.denialLimit.rate,
        period: args.denialLimit.period,
      },
    },
    now,
  );
  const keyId = args.keyId;
  if (GUESSES.has(detail) && !budget.ok) {
    return {
      ok: false,
      reason: "rate_limited",
      retryAfter: budget.retryAfter,
      keyId,
      detail,
      audit: false,
    };
  }
  return {
    ok: false,
    reason: ANSWER[detail],
    ...(retryAfter === undefined ? {} : { retryAfter }),
    keyId,
    detail,
    audit: args.audit && budget.ok,
  };
}

/** Verification in a mutation: consumes the call limit, counts denials, records lastUsedAt. */
export async function verifyInMutation(
  ctx: MutationCtx,
  args: VerifyArgs,
  now: number,
): Promise<ComponentVerifyResult> {
  assertVerifyArgs(args);
  const row = await findKey(ctx.db, args.keyId);
  const why = refusal(row, args.digest, args.scope, now);
  if (row === null || why !== null) return deny(ctx, args, DETAIL[why ?? "unknown"], now);
  if (args.limit !== undefined) {
    const limited = await consumeRateLimit(ctx, callLimit(row.keyId, args.limit), now);
    if (!limited.ok) return deny(ctx, args, "rate_limited", now, limited.retryAfter);
  }
  if (shouldTouch(row.lastUsedAt, now)) await ctx.db.patch("apiKeys", row._id, { lastUsedAt: now });
  return verified(row);
}

/** Verification in a query: reads only. The call limit is checked, not consumed; denials are not counted. */
export async function verifyInQuery(
  ctx: QueryCtx,
  args: VerifyArgs,
  now: number,
): Promise<ComponentVerifyResult> {
  assertVerifyArgs(args);
  const row = await findKey(ctx.db, args.keyId);
  const why = refusal(row, args.digest, args.scope, now);
  if (row === null || why !== null) {
    const detail = DETAIL[why ?? "unknown"];
    return { ok: false, reason: ANSWER[detail], keyId: args.keyId, detail, audit: false };
  }
  if (args.limit !== undefined) {
    const limited = await peekRateLimit(ctx, callLimit(row.keyId, args.limit), now);
    if (!limited.ok) {
      return {
        ok: false,
        reason: "rate_limited",
        retryAfter: limited.retryAfter,
        keyId: row.keyId,
        detail: "rate_limited",
        audit: false,
      };
    }
  }
  return verified(row);
}
