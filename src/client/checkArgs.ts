import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import {
  asObjectValidator,
  type GenericValidator,
  type PropertyValidators,
  type ValidatorJSON,
} from "convex/values";
import { ErrorCode, guardError } from "../component/lib/errors.js";
import type { RunMutationCtx, RunQueryCtx } from "./ctx.js";
import { jsonMismatch, validatorJson } from "./validatorMismatch.js";

/**
 * The one door from the client classes to the component: each call's
 * arguments are checked against the component function's own argument
 * validator (the `args` it is registered with, from the capability's
 * model.ts table, e.g. `rateLimitArgs.limit`) before the call. A mismatch is
 * INVALID_ARGUMENT naming the field, instead of Convex's uncoded validator
 * error (which also prints every argument into the deployment's logs). Values
 * a validator accepts but that are still wrong (an empty key, a past `until`)
 * are the component function's to refuse.
 *
 * The client imports these validators, never the function modules: those
 * register functions and would pull the component's server code into every
 * host bundle (scripts/structure-check.ts holds this).
 */

/** A component function's `args`: an object of field validators, or one object validator. */
export type ArgsValidator = PropertyValidators | GenericValidator;

const argsJson = new WeakMap<ArgsValidator, ValidatorJSON>();

/** The JSON form of `args`: what the function's `exportArgs()` gives Convex to check against. */
export function argsValidatorJson(args: ArgsValidator): ValidatorJSON {
  let json = argsJson.get(args);
  if (json === undefined) {
    json = validatorJson(asObjectValidator(args)) ?? undefined;
    if (json === undefined) {
      throw guardError(
        ErrorCode.INTERNAL,
        "a component function's args are not a Convex validator",
      );
    }
    argsJson.set(args, json);
  }
  return json;
}

/** Throws INVALID_ARGUMENT (with `field`) unless `value` matches the argument validator `args`. */
export function assertArgs(args: ArgsValidator, value: unknown): void {
  const mismatch = jsonMismatch(argsValidatorJson(args), value, "");
  if (mismatch === null) return;
  const field = mismatch.split(" ")[0] ?? "";
  throw guardError(ErrorCode.INVALID_ARGUMENT, `invalid argument: ${mismatch}`, { field });
}

/** `ctx.runQuery(ref, args)` once `args` match `validator` (the `args` of the function `ref` names). */
export async function queryComponent<Q extends FunctionReference<"query", "internal">>(
  ctx: RunQueryCtx,
  ref: Q,
  validator: ArgsValidator,
  args: FunctionArgs<Q>,
): Promise<FunctionReturnType<Q>> {
  assertArgs(validator, args);
  return ctx.runQuery(ref, args);
}

/** `ctx.runMutation(ref, args)` once `args` match `validator` (the `args` of the function `ref` names). */
export function mutateComponent<M extends FunctionReference<"mutation", "internal">>(
  ctx: RunMutationCtx,
  ref: M,
  validator: ArgsValidator,
  args: FunctionArgs<M>,
): Promise<FunctionReturnType<M>> {
  assertArgs(validator, args);
  return ctx.runMutation(ref, args);
}

/**
 * An options argument: undefined (use the defaults) or a plain object with
 * only the given `fields`, none of them null (but see NULLABLE_FIELDS).
 * `null`, another type, a null field or an unknown field is INVALID_ARGUMENT
 * naming it: never read as "the defaults", never ignored.
 */
export function optionsObject<T extends object>(
  value: T | undefined,
  what: string,
  /** Omitted: the object goes to the component whole, and its validator checks the fields. */
  fields?: readonly string[],
  /** Fields of this object where null is a value (besides NULLABLE_FIELDS). */
  nullable: readonly string[] = [],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${what} must be an object`, { field: what });
  }
  if (fields === undefined) return value;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const x = (value as Record<string, unknown>)[k];
    if (x !== undefined && !fields.includes(k)) {
      const field = `${what}.${k}`;
      throw guardError(ErrorCode.INVALID_ARGUMENT, `${field} is not allowed`, { field });
    }
    if (x === null && !NULLABLE_FIELDS.has(k) && !nullable.includes(k)) {
      const field = `${what}.${k}`;
      throw guardError(ErrorCode.INVALID_ARGUMENT, `${field} must not be null: omit it`, {
        field,
      });
    }
  }
  return value;
}

/** Option fields where null is a value, not "the default": `cursor: null` is the first page; a payload may be null. */
const NULLABLE_FIELDS = new Set(["cursor", "payload"]);

/**
 * A constructor's options: a plain object with only the given `fields`, none
 * of them null (a null is never read as "the default"). INVALID_CONFIG
 * otherwise.
 */
export function configObject<T extends object>(
  value: T,
  what: string,
  fields: readonly string[],
): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw guardError(ErrorCode.INVALID_CONFIG, `${what} must be an object`, { field: what });
  }
  for (const [k, x] of Object.entries(value)) {
    const field = `${what}.${k}`;
    if (x !== undefined && !fields.includes(k))
      throw guardError(ErrorCode.INVALID_CONFIG, `${field} is not an option`, { field });
    if (x === null)
      throw guardError(ErrorCode.INVALID_CONFIG, `${field} must not be null: omit it`, { field });
  }
  return value;
}

/** A required argument object: as `optionsObject`, and undefined is INVALID_ARGUMENT too. */
export function requiredObject<T extends object>(
  value: T,
  what: string,
  fields?: readonly string[],
  nullable: readonly string[] = [],
): T {
  const o = optionsObject(value, what, fields, nullable);
  if (o === undefined)
    throw guardError(ErrorCode.INVALID_ARGUMENT, `${what} is required`, { field: what });
  return o;
}
