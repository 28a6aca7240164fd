import { jsonToConvex, type Validator, type ValidatorJSON } from "convex/values";
import { isWellFormed } from "../component/lib/validate.js";

/**
 * Host-side check of a value against a Convex validator, in the validator's
 * JSON form (`validator.json`, or a registered function's `exportArgs()`):
 * for `AuditLog`'s typed `actions` (the host's validators cannot cross the
 * component boundary) and for every client call's arguments (./checkArgs.ts).
 *
 * Stricter than Convex's own check in one way: a string must be well-formed
 * UTF-16 (no lone surrogate). A deployment cannot store one faithfully, and
 * identifiers that differ only in a lone surrogate would otherwise collide.
 */

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(at: string, field: string): string {
  return at === "" ? field : `${at}.${field}`;
}

function stringMismatch(value: unknown, at: string): string | null {
  if (typeof value !== "string") return `${at} must be a string`;
  return isWellFormed(value)
    ? null
    : `${at} must be well-formed UTF-16 (it holds a lone surrogate)`;
}

/** Why `value` is not a Convex value (what `v.any()` accepts), or null. */
function valueMismatch(value: unknown, at: string): string | null {
  switch (typeof value) {
    case "string":
      return stringMismatch(value, at);
    case "number":
    case "bigint":
    case "boolean":
      return null;
    case "object":
      if (value === null || value instanceof ArrayBuffer) return null;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const m = valueMismatch(value[i], `${at}[${i}]`);
          if (m) return m;
        }
        return null;
      }
      if (!isPlainObject(value)) return `${at} must be a plain object`;
      for (const [k, x] of Object.entries(value)) {
        const m =
          stringMismatch(k, `${at} key`) ??
          (x === undefined ? null : valueMismatch(x, join(at, k)));
        if (m) return m;
      }
      return null;
    default:
      return `${at} must be a Convex value, not a ${typeof value}`;
  }
}

/** Returns a description of the first mismatch (naming the field at `at`), or null when `value` matches. */
export function jsonMismatch(
  j: ValidatorJSON,
  value: unknown,
  at: string,
  optional = false,
): string | null {
  if (value === undefined) return optional ? null : `${at} is required`;
  switch (j.type) {
    case "any":
      return valueMismatch(value, at);
    case "string":
      return stringMismatch(value, at);
    case "id":
      return typeof value === "string" ? null : `${at} must be an id`;
    case "number":
      return typeof value === "number" ? null : `${at} must be a number`;
    case "bigint":
    case "commitTs":
      return typeof value === "bigint" ? null : `${at} must be a bigint`;
    case "boolean":
      return typeof value === "boolean" ? null : `${at} must be a boolean`;
    case "null":
      return value === null ? null : `${at} must be null`;
    case "bytes":
      return value instanceof ArrayBuffer ? null : `${at} must be bytes`;
    case "literal": {
      const literal = jsonToConvex(j.value);
      return value === literal ? null : `${at} must be ${JSON.stringify(j.value)}`;
    }
    case "array":
      if (!Array.isArray(value)) return `${at} must be an array`;
      for (let i = 0; i < value.length; i++) {
        const m = jsonMismatch(j.value, value[i], `${at}[${i}]`);
        if (m) return m;
      }
      return null;
    case "object": {
      if (!isPlainObject(value)) return `${at || "arguments"} must be an object`;
      for (const k of Object.keys(value)) {
        if (value[k] !== undefined && !Object.hasOwn(j.value, k))
          return `${join(at, k)} is not allowed`;
      }
      for (const [k, field] of Object.entries(j.value)) {
        const m = jsonMismatch(field.fieldType, value[k], join(at, k), field.optional);
        if (m) return m;
      }
      return null;
    }
    case "record": {
      if (!isPlainObject(value)) return `${at} must be an object`;
      for (const [k, x] of Object.entries(value)) {
        const m =
          jsonMismatch(j.keys, k, `${at} key`) ?? jsonMismatch(j.values.fieldType, x, join(at, k));
        if (m) return m;
      }
      return null;
    }
    case "union":
      return j.value.some((m) => jsonMismatch(m, value, at) === null)
        ? null
        : `${at} matches none of the allowed shapes`;
    default:
      return null;
  }
}

function isValidatorJson(json: unknown): json is ValidatorJSON {
  return typeof json === "object" && json !== null && "type" in json;
}

/**
 * The JSON form of a validator (its `json`, which Convex's validator classes
 * have but their public type leaves out), or null for something that is not
 * a Convex validator.
 */
export function validatorJson(validator: Validator<any, any, any>): ValidatorJSON | null {
  const json: unknown = "json" in validator ? validator.json : undefined;
  return isValidatorJson(json) ? json : null;
}

/** Returns a description of the first mismatch, or null when `value` matches `validator`. */
export function validatorMismatch(
  validator: Validator<any, any, any>,
  value: unknown,
  at = "metadata",
): string | null {
  const json = validatorJson(validator);
  if (json === null) return null;
  return jsonMismatch(json, value, at, validator.isOptional === "optional");
}
