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

/** The first mismatch of `value` (naming the field at `at`), or null. */
type Check = (value: unknown, at: string) => string | null;

/**
 * A check compiled from validator JSON: `ok` answers whether a value matches
 * without building any text (every client call runs it), and `why` names
 * the first mismatch, run only once `ok` has said there is one.
 */
type Compiled = { ok: (value: unknown) => boolean; why: Check };

/**
 * Checks compiled once per JSON object: every client call checks its
 * arguments, and walking the JSON each time (looking up literals, listing
 * fields) cost more than the rest of the client's work per call.
 */
const compiled = new WeakMap<ValidatorJSON, Compiled>();

function checkOf(j: ValidatorJSON): Compiled {
  let check = compiled.get(j);
  if (check === undefined) {
    check = compile(j);
    compiled.set(j, check);
  }
  return check;
}

/** A field's check: a missing value is a mismatch unless the field is optional. */
function fieldCheck(j: ValidatorJSON, optional: boolean): Compiled {
  const { ok, why } = checkOf(j);
  return {
    ok: (value) => (value === undefined ? optional : ok(value)),
    why: (value, at) =>
      value === undefined ? (optional ? null : `${at} is required`) : why(value, at),
  };
}

/** A check of one value's type, with the message it gives otherwise. */
function typeCheck(ok: (value: unknown) => boolean, must: string): Compiled {
  return { ok, why: (value, at) => (ok(value) ? null : `${at} must be ${must}`) };
}

const isWellFormedString = (value: unknown) => typeof value === "string" && isWellFormed(value);

function compile(j: ValidatorJSON): Compiled {
  switch (j.type) {
    case "any":
      return { ok: (value) => valueMismatch(value, "") === null, why: valueMismatch };
    case "string":
      return { ok: isWellFormedString, why: stringMismatch };
    case "id":
      return typeCheck((value) => typeof value === "string", "an id");
    case "number":
      return typeCheck((value) => typeof value === "number", "a number");
    case "bigint":
    case "commitTs":
      return typeCheck((value) => typeof value === "bigint", "a bigint");
    case "boolean":
      return typeCheck((value) => typeof value === "boolean", "a boolean");
    case "null":
      return typeCheck((value) => value === null, "null");
    case "bytes":
      return typeCheck((value) => value instanceof ArrayBuffer, "bytes");
    case "literal": {
      const literal = jsonToConvex(j.value);
      return typeCheck((value) => value === literal, JSON.stringify(j.value));
    }
    case "array": {
      const item = fieldCheck(j.value, false);
      return {
        ok: (value) => Array.isArray(value) && value.every((x) => item.ok(x)),
        why: (value, at) => {
          if (!Array.isArray(value)) return `${at} must be an array`;
          for (let i = 0; i < value.length; i++) {
            const m = item.why(value[i], `${at}[${i}]`);
            if (m) return m;
          }
          return null;
        },
      };
    }
    case "object": {
      const fields = Object.entries(j.value).map(
        ([k, f]) => [k, fieldCheck(f.fieldType, f.optional)] as const,
      );
      const known = j.value;
      const unknownField = (value: Record<string, unknown>) => {
        for (const k in value) {
          if (Object.hasOwn(value, k) && value[k] !== undefined && !Object.hasOwn(known, k))
            return k;
        }
        return null;
      };
      const names = fields.map(([k]) => k);
      const oks = fields.map(([, check]) => check.ok);
      return {
        ok: (value) => {
          if (!isPlainObject(value) || unknownField(value) !== null) return false;
          for (let i = 0; i < oks.length; i++) if (!oks[i]!(value[names[i]!])) return false;
          return true;
        },
        why: (value, at) => {
          if (!isPlainObject(value)) return `${at || "arguments"} must be an object`;
          const unknown = unknownField(value);
          if (unknown !== null) return `${join(at, unknown)} is not allowed`;
          for (const [k, check] of fields) {
            const m = check.why(value[k], join(at, k));
            if (m) return m;
          }
          return null;
        },
      };
    }
    case "record": {
      const key = fieldCheck(j.keys, false);
      const item = fieldCheck(j.values.fieldType, false);
      return {
        ok: (value) => {
          if (!isPlainObject(value)) return false;
          for (const k in value) {
            if (Object.hasOwn(value, k) && !(key.ok(k) && item.ok(value[k]))) return false;
          }
          return true;
        },
        why: (value, at) => {
          if (!isPlainObject(value)) return `${at} must be an object`;
          for (const [k, x] of Object.entries(value)) {
            const m = key.why(k, `${at} key`) ?? item.why(x, join(at, k));
            if (m) return m;
          }
          return null;
        },
      };
    }
    case "union": {
      const members = j.value.map((m) => fieldCheck(m, false));
      const ok = (value: unknown) => members.some((m) => m.ok(value));
      return {
        ok,
        why: (value, at) => (ok(value) ? null : `${at} matches none of the allowed shapes`),
      };
    }
    default:
      return { ok: () => true, why: () => null };
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
  const check = checkOf(j);
  return check.ok(value) ? null : check.why(value, at);
}

function isValidatorJson(json: unknown): json is ValidatorJSON {
  return typeof json === "object" && json !== null && "type" in json;
}

/** Each validator's JSON, built once: `json` is a getter that builds a new tree on every read. */
const jsonOf = new WeakMap<object, ValidatorJSON | null>();

/**
 * The JSON form of a validator (its `json`, which Convex's validator classes
 * have but their public type leaves out), or null for something that is not
 * a Convex validator. The same object for the same validator, so its compiled
 * check is built once.
 */
export function validatorJson(validator: Validator<any, any, any>): ValidatorJSON | null {
  let cached = jsonOf.get(validator);
  if (cached === undefined) {
    const json: unknown = "json" in validator ? validator.json : undefined;
    cached = isValidatorJson(json) ? json : null;
    jsonOf.set(validator, cached);
  }
  return cached;
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
