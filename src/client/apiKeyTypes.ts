import {
  vApiKeyDenial,
  type ApiKeyDenial,
  type ApiKeyInfo,
  type ApiKeyOwner,
  type VerifyReason,
} from "../component/apiKeys/model.js";
import type { DenialLimit } from "../component/apiKeys/rules.js";
import type { RateLimitConfig } from "../component/rateLimits/model.js";
import type { AuditSink } from "./auditSink.js";

/** The shapes `ApiKeys` takes and returns, and its audit action names. */
export { vApiKeyDenial };
export type { ApiKeyDenial, ApiKeyInfo, ApiKeyOwner, VerifyReason as ApiKeyDenialReason };

/** Who a verified key is: what `verify` returns on success and wrappers put in `ctx.apiKey`. */
export type VerifiedApiKey<S extends string = string> = {
  keyId: string;
  name: string;
  owner: ApiKeyOwner;
  scopes: S[];
};
export type ApiKeyVerifyResult<S extends string = string> =
  ({ ok: true } & VerifiedApiKey<S>) | ApiKeyDenial;

/** True when a wrapped function's result is a key denial rather than the handler's value. */
export function isApiKeyDenial(value: unknown): value is ApiKeyDenial {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { ok?: unknown }).ok === false &&
    typeof (value as { reason?: unknown }).reason === "string"
  );
}

export type ApiKeyActor = { type: string; id: string; name?: string };

/** Audit action names, in the `guard.` namespace an `AuditLog` always accepts. */
export const API_KEY_AUDIT_ACTIONS = {
  create: "guard.apiKey.create",
  rotate: "guard.apiKey.rotate",
  revoke: "guard.apiKey.revoke",
  remove: "guard.apiKey.remove",
  deny: "guard.apiKey.deny",
} as const;

export type ApiKeysOptions<S extends string> = {
  /** The visible start of every key, like "sk_live": letters and digits, single underscores. */
  prefix: string;
  /** Every scope a key may hold. Scope names are checked at compile time against this list. */
  scopes: readonly S[];
  /** Per-key call limit, by our rate limiter (any config it accepts; add `shards` for very hot keys). */
  limit?: RateLimitConfig;
  /** Records create, rotate, revoke, remove and denied verifications (as `guard.apiKey.*`). */
  audit?: AuditSink;
  /** Denials counted and audited per presented key id, whether or not a key has it. Default 10 per minute. */
  denialLimit?: DenialLimit;
  /** Metadata of revoked and expired keys is deleted this long after. Default 90 days. */
  retention?: { days: number };
  /** Keys (kept metadata included) one owner may have. Default 100. */
  maxKeysPerOwner?: number;
};

export type CreateApiKeyArgs<S extends string> = {
  name: string;
  owner: ApiKeyOwner;
  scopes: readonly S[];
  /** When the key stops working (ms since epoch); none by default. */
  expiresAt?: number;
  /** Who creates it, for the audit event. */
  actor?: ApiKeyActor;
};
export type CreatedApiKey = { keyId: string; key: string; createdAt: number; expiresAt?: number };
export type RotatedApiKey = {
  keyId: string;
  key: string;
  rotatedAt: number;
  previousValidUntil: number;
};
