/**
 * The function definitions `ApiKeys.mutation` and `ApiKeys.query` register:
 * the host's definition with an `apiKey` argument added, verified before the
 * handler runs. Kept apart from the class so the wrapper rules live in one
 * place.
 */
import {
  asObjectValidator,
  v,
  type GenericValidator,
  type PropertyValidators,
} from "convex/values";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import { vApiKeyDenial } from "../component/apiKeys/model.js";
import { assertKnownScopes } from "../component/apiKeys/rules.js";
import { ACCESS_MARKER, type AccessMarker } from "./accessMarker.js";
import type { RunQueryCtx } from "./ctx.js";
import type { ApiKeyVerifyResult, VerifiedApiKey } from "./apiKeyTypes.js";

/** What a host passes to a wrapper: its args, optional returns, and the handler. */
export type ApiKeyFunctionDefinition = {
  args: PropertyValidators;
  returns?: GenericValidator | PropertyValidators;
  handler: (ctx: any, args: any) => unknown;
};

/** Keys these wrappers verified: `Access` trusts a `ctx.apiKey` only if it is one of them. */
const verifiedKeys = new WeakSet<object>();

/** The key an `ApiKeys` wrapper verified for this call (`ctx.apiKey`), or null. */
export function verifiedApiKeyOf(ctx: object): VerifiedApiKey | null {
  const key: unknown = (ctx as { apiKey?: unknown }).apiKey;
  return typeof key === "object" && key !== null && verifiedKeys.has(key)
    ? (key as VerifiedApiKey)
    : null;
}

type Verify<S extends string> = (
  ctx: RunQueryCtx,
  args: { key: string; scope?: S },
) => Promise<ApiKeyVerifyResult<S>>;

/**
 * Checks the definition at registration (so a bad one fails at import) and
 * returns the definition to register. A refused key is returned as the
 * function's result, never thrown, so its trace persists.
 */
export function apiKeyFunction<S extends string>(
  def: ApiKeyFunctionDefinition,
  scope: S | undefined,
  declaredScopes: readonly S[],
  verify: Verify<S>,
) {
  if (scope !== undefined) assertKnownScopes([scope], declaredScopes);
  assertDefinition(def);
  return {
    args: { ...def.args, apiKey: v.string() },
    ...(def.returns === undefined
      ? {}
      : { returns: v.union(asObjectValidator(def.returns), vApiKeyDenial) }),
    handler: async (ctx: RunQueryCtx, { apiKey, ...args }: { apiKey: string }) => {
      const r = await verify(ctx, { key: apiKey, ...(scope === undefined ? {} : { scope }) });
      if (!r.ok) return r;
      const verified = { keyId: r.keyId, name: r.name, owner: r.owner, scopes: r.scopes };
      verifiedKeys.add(verified);
      return def.handler({ ...ctx, apiKey: verified }, args);
    },
  };
}

/**
 * Marks a registered API-key function (or HTTP action) as answering servers
 * only, so `probeAccess` (convex-guard/test) expects every caller without a
 * key to be refused, and reads a returned `{ ok: false, reason }` as a
 * refusal. Non-enumerable: Convex and the host never see it.
 */
export function markApiKeyFunction<F extends object>(registered: F): F {
  const marker: AccessMarker = { wrapper: "apiKey", onDenied: "result" };
  Object.defineProperty(registered, ACCESS_MARKER, { value: marker, enumerable: false });
  return registered;
}

function assertDefinition(def: ApiKeyFunctionDefinition): void {
  if (typeof def !== "object" || def === null || typeof def.args !== "object" || def.args === null)
    throw guardError(ErrorCode.INVALID_CONFIG, "an API-key function needs an `args` object");
  if ("apiKey" in def.args)
    throw guardError(
      ErrorCode.INVALID_CONFIG,
      "`apiKey` is added by the wrapper; remove it from args",
    );
}
