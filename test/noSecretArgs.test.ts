/// <reference types="vite/client" />
import { expect, test } from "vitest";

/*
 * No secret crosses the component boundary: a deployment's argument-
 * validation errors print the whole argument object, so no component
 * function may take a secret, a plaintext code, a key or a password as an
 * argument. This walks the args validator of every registered function
 * (what the backend's analyzer reads) and flags fields named like one.
 */

const modules = import.meta.glob(
  ["../src/component/**/*.ts", "!../src/component/**/*.test.ts", "!../src/component/_generated/**"],
  { eager: true },
);

/** Words in a field name that say it holds a credential or a code. */
const SECRET_WORDS = new Set([
  "secret",
  "secrets",
  "password",
  "passphrase",
  "passcode",
  "code",
  "otp",
  "pin",
  "token",
  "key",
  "apikey",
  "credential",
  "credentials",
  "plaintext",
  "private",
]);
/**
 * Words that say the field holds a one-way value of one, or names it: a MAC,
 * a hash or digest, an id, a non-secret prefix. `codeMac`, `keyHash`,
 * `secretDigest`, `codeId` and `keyPrefix` pass; `code`, `apiKey`, `secret` don't.
 */
const DIGEST_WORDS = new Set([
  "mac",
  "macs",
  "hmac",
  "hash",
  "digest",
  "verifier",
  "fingerprint",
  "id",
  "ids",
  "prefix",
]);
/**
 * Fields whose name matches but which are public by definition, with why.
 * Keep this list short: every entry is a promise made in the docs.
 */
const PUBLIC_FIELDS: Record<string, string> = {
  // A rate limit's bucket key: the host's own identifier (user id, IP), documented as public.
  "rateLimits.*.key": "a rate-limit bucket's name",
  "rateLimits.*.requests[].key": "a rate-limit bucket's name",
};

type FieldJson = { fieldType: ValidatorJson; optional: boolean };
type ValidatorJson = {
  type: string;
  value?: unknown;
  keys?: ValidatorJson;
  values?: FieldJson;
};

/** camelCase, snake_case and kebab-case words, lower-cased. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

export function looksSecret(name: string): boolean {
  const ws = words(name);
  return ws.some((w) => SECRET_WORDS.has(w)) && !ws.some((w) => DIGEST_WORDS.has(w));
}

/** Every field path in a validator, e.g. `candidates[].codeMac`. */
function fieldPaths(json: ValidatorJson, at: string): string[] {
  switch (json.type) {
    case "object": {
      const fields = json.value as Record<string, FieldJson>;
      return Object.entries(fields).flatMap(([name, f]) => {
        const path = at === "" ? name : `${at}.${name}`;
        return [path, ...fieldPaths(f.fieldType, path)];
      });
    }
    case "array":
      return fieldPaths(json.value as ValidatorJson, `${at}[]`);
    case "union":
      return (json.value as ValidatorJson[]).flatMap((m) => fieldPaths(m, at));
    case "record":
      return fieldPaths(json.values!.fieldType, `${at}{}`);
    default:
      return [];
  }
}

type Registered = { exportArgs(): string; isQuery?: boolean; isMutation?: boolean };

function registeredFunctions(): { name: string; fn: Registered }[] {
  const out: { name: string; fn: Registered }[] = [];
  for (const [path, mod] of Object.entries(modules)) {
    const module = path.replace("../src/component/", "").replace(/\.ts$/, "");
    for (const [exported, value] of Object.entries(mod as Record<string, unknown>)) {
      const fn = value as Partial<Registered> | null;
      if (typeof fn?.exportArgs === "function")
        out.push({ name: `${module}.${exported}`, fn: fn as Registered });
    }
  }
  return out;
}

function isPublicField(fn: string, path: string): boolean {
  const [module] = fn.split(".");
  return `${module}.*.${path}` in PUBLIC_FIELDS || `${fn}.${path}` in PUBLIC_FIELDS;
}

test("the name rule: plaintext credentials are flagged, their MACs, digests and ids are not", () => {
  for (const name of [
    "secret",
    "code",
    "apiKey",
    "api_key",
    "password",
    "token",
    "previousSecrets",
  ])
    expect(looksSecret(name), name).toBe(true);
  for (const name of ["codeMac", "keyHash", "secretDigest", "codeId", "keyPrefix", "payloadMac"])
    expect(looksSecret(name), name).toBe(false);
  for (const name of ["subject", "action", "metadata", "failureLimit", "candidates"])
    expect(looksSecret(name), name).toBe(false);
});

test("no component function takes a secret, a code, a key or a password as an argument", () => {
  const functions = registeredFunctions();
  // Every capability is walked (a broken glob would pass vacuously).
  const modulesSeen = new Set(functions.map((f) => f.name.split(".")[0]));
  for (const m of ["codes", "audit", "rateLimits", "maintenance"]) expect(modulesSeen).toContain(m);
  const flagged: string[] = [];
  for (const { name, fn } of functions) {
    const args = JSON.parse(fn.exportArgs()) as ValidatorJson;
    for (const path of fieldPaths(args, "")) {
      const leaf = path
        .split(/[.[\]{}]+/)
        .filter(Boolean)
        .pop()!;
      if (looksSecret(leaf) && !isPublicField(name, path)) flagged.push(`${name}: ${path}`);
    }
  }
  expect(flagged).toEqual([]);
});

test("every public-field exception still names a real argument", () => {
  const paths = new Set<string>();
  for (const { name, fn } of registeredFunctions()) {
    const [module] = name.split(".");
    for (const path of fieldPaths(JSON.parse(fn.exportArgs()) as ValidatorJson, ""))
      paths.add(`${module}.*.${path}`);
  }
  for (const field of Object.keys(PUBLIC_FIELDS)) expect(paths, field).toContain(field);
});
