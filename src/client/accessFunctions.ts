/**
 * The function definitions `Access.query`, `.mutation` and `.action`
 * register: the host's definition, run only for an admitted actor, with
 * `ctx.actor` and (queries and mutations) a `ctx.db` that enforces the row
 * rules. Kept apart from the class so the wrapper rules live in one place.
 */
import {
  asObjectValidator,
  v,
  type GenericValidator,
  type PropertyValidators,
} from "convex/values";
import type { GenericDatabaseWriter } from "convex/server";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import { ACCESS_MARKER, type AccessMarker } from "./accessMarker.js";
import { guardedDb, rowDenialTable, type RowPolicy } from "./accessDb.js";
import { vAccessDenial, type AccessDenial, type ActorWith } from "./accessTypes.js";

export type FunctionKind = "query" | "mutation" | "action";

/** What a host passes to a wrapper: its args, optional returns, and the handler. */
export type AccessFunctionDefinition = {
  args: PropertyValidators;
  returns?: GenericValidator | PropertyValidators;
  handler: (ctx: any, args: any) => unknown;
};

/** What the wrapper was asked to check, for the denial's audit event. */
export type Checked = { permission?: string; scope?: string; table?: string };
/** The actor a wrapper admits carries the profile (when `Access` has one); a denial's need not. */
export type Admission =
  { ok: true; actor: ActorWith<unknown> } | (AccessDenial & { actor: ActorWith<unknown> | null });

/** The `Access` instance as the wrappers see it. */
export type Gate = {
  policy: RowPolicy;
  /** Takes the actor, applies the denial limit and the permission check. */
  admit(ctx: any, checked: Checked): Promise<Admission>;
  /** Counts and records a denial (mutations and actions). */
  recordDenial(ctx: any, denial: Admission & { ok: false }, checked: Checked): Promise<void>;
  /** Lets the handler's ctx share the caller's per-call role and profile caches. */
  share(from: object, to: object): void;
};

export type WrapperSettings = {
  permission?: string;
  scope?: string | ((args: any) => string);
  onDenied: "result" | "throw";
};

const CODES = {
  unauthenticated: ErrorCode.UNAUTHENTICATED,
  forbidden: ErrorCode.FORBIDDEN,
  rate_limited: ErrorCode.RATE_LIMITED,
} as const;

/** The coded error a thrown denial carries (a query's, or any with `onDenied: "throw"`). */
export function denialError(denial: AccessDenial, checked: Checked) {
  const what = checked.permission ?? checked.table;
  return guardError(
    CODES[denial.reason],
    denial.reason === "unauthenticated"
      ? "sign in first"
      : denial.reason === "rate_limited"
        ? "too many denied calls: try again later"
        : `not allowed${what === undefined ? "" : `: ${what}`}`,
    denial.retryAfter === undefined ? {} : { retryAfter: denial.retryAfter },
  );
}

/** The definition to register, and the marker the registered function carries. */
export function accessFunction(
  kind: FunctionKind,
  def: AccessFunctionDefinition,
  settings: WrapperSettings,
  gate: Gate,
) {
  assertDefinition(def, settings);
  const throws = kind === "query" || settings.onDenied === "throw";
  const refuse = async (ctx: any, denial: Admission & { ok: false }, checked: Checked) => {
    if (kind !== "query") await gate.recordDenial(ctx, denial, checked);
    const answer: AccessDenial =
      denial.retryAfter === undefined
        ? { ok: false, reason: denial.reason }
        : { ok: false, reason: denial.reason, retryAfter: denial.retryAfter };
    if (throws) throw denialError(answer, checked);
    return answer;
  };
  const marker: AccessMarker = {
    wrapper: "access",
    ...(settings.permission === undefined ? {} : { permission: settings.permission }),
    ...(settings.scope === undefined
      ? {}
      : { scope: typeof settings.scope === "function" ? "argument" : "static" }),
    onDenied: throws ? "throw" : "result",
  };
  const definition = {
    args: def.args,
    ...(def.returns === undefined
      ? {}
      : { returns: throws ? def.returns : v.union(asObjectValidator(def.returns), vAccessDenial) }),
    handler: async (ctx: any, args: any) => {
      const scope = typeof settings.scope === "function" ? settings.scope(args) : settings.scope;
      const checked: Checked = {
        ...(settings.permission === undefined ? {} : { permission: settings.permission }),
        ...(scope === undefined ? {} : { scope }),
      };
      const admitted = await gate.admit(ctx, checked);
      if (!admitted.ok) return refuse(ctx, admitted, checked);
      const actor = admitted.actor;
      const state = { wrote: false };
      const inner =
        kind === "action"
          ? { ...ctx, actor }
          : {
              ...ctx,
              ...effectsOf(ctx, state),
              actor,
              db: guardedDb(ctx.db as GenericDatabaseWriter<any>, actor, gate.policy, state),
            };
      gate.share(ctx, inner);
      try {
        return await def.handler(inner, args);
      } catch (e) {
        // A row denial is returned only while nothing was written or scheduled: returning
        // after an effect would commit half of the handler's work, so then it throws (and rolls back).
        const table = rowDenialTable(e);
        if (table === null || throws || state.wrote) throw e;
        return refuse(ctx, { ok: false, reason: "forbidden", actor }, { ...checked, table });
      }
    },
  };
  return { definition, marker };
}

/** The ctx members that change state outside ctx.db, and the methods of each that do. */
const EFFECTS: Record<string, readonly string[] | null> = {
  runMutation: null,
  runAction: null,
  scheduler: ["runAfter", "runAt", "cancel"],
  storage: ["store", "delete"],
};

/**
 * The handler's own scheduler, storage, runMutation and runAction, each
 * marking `state.wrote` when called: after such an effect a row denial
 * throws (rolling it back) instead of returning a denial that would commit it.
 */
function effectsOf(ctx: any, state: { wrote: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, methods] of Object.entries(EFFECTS)) {
    const member: unknown = ctx[name];
    if (typeof member === "function") {
      out[name] = (...args: unknown[]) => {
        state.wrote = true;
        return (member as (...a: unknown[]) => unknown).apply(ctx, args);
      };
    } else if (methods !== null && typeof member === "object" && member !== null) {
      const marked = new Set<PropertyKey>(methods);
      const wrapped = new Proxy(member, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (marked.has(prop)) state.wrote = true;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      out[name] = wrapped;
    }
  }
  return out;
}

/** Marks a registered function (non-enumerable) so tools can tell how it is guarded. */
export function markAccess<F extends object>(fn: F, marker: AccessMarker): F {
  Object.defineProperty(fn, ACCESS_MARKER, { value: marker, enumerable: false });
  return fn;
}

function assertDefinition(def: AccessFunctionDefinition, settings: WrapperSettings): void {
  if (typeof def !== "object" || def === null || typeof def.args !== "object" || def.args === null)
    throw guardError(ErrorCode.INVALID_CONFIG, "an access-wrapped function needs an `args` object");
  if (typeof def.handler !== "function")
    throw guardError(ErrorCode.INVALID_CONFIG, "an access-wrapped function needs a `handler`");
  if (settings.onDenied !== "result" && settings.onDenied !== "throw")
    throw guardError(ErrorCode.INVALID_CONFIG, 'onDenied must be "result" or "throw"');
}
