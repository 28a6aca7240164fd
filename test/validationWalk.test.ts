/**
 * The validation walk: every public method of every exported client class,
 * called with each class of bad input, answers with a coded ConvexError (or,
 * where a method documents one, a refusal result) and changes no table.
 *
 * The table below holds one good call per method; the walk derives the bad
 * inputs from it (null, a wrong type, an unknown field, a lone surrogate, a
 * garbage cursor, an unknown name), so adding a class or a method is one
 * entry. Bad configurations go through the constructors' table.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  Access,
  ApiKeys,
  AuditLog,
  Confirmations,
  ErrorCode,
  HOUR,
  MINUTE,
  RateLimiter,
  isGuardError,
  type ComponentApi,
  type RateLimitConfig,
} from "../src/client/index.js";
import schema from "../src/component/schema.js";
import { components, guardTest, runInGuard } from "./setup.js";

const T0 = 1_700_000_000_000;
const component: ComponentApi = components.guard;
type T = ReturnType<typeof guardTest>;
/** What a client method needs of a host ctx (a convex-test mutation's ctx has it). */
type Ctx = Parameters<RateLimiter["limit"]>[0];

const BUCKET: RateLimitConfig = { kind: "token bucket", rate: 10, period: MINUTE };
const PAGE = { numItems: 10, cursor: null };

/** One exported client class: an instance, and one good call (arguments after ctx) per method. */
type ClientEntry = {
  client: object;
  /** Methods' good arguments (a function of the ids the setup created, where they need one). */
  methods: Record<string, unknown[] | ((ids: Ids) => unknown[])>;
  /** Methods whose first argument is a limit name (an unknown one must be refused). */
  named?: string[];
  /** Methods documented to return a refusal (`{ ok: false }`) for some bad inputs. */
  refuses?: string[];
  /** Public methods the walk does not call, with why (they build host functions, not calls). */
  notCalls?: string[];
};

/** Ids of the documents every run starts with (see `beforeEach`). */
type Ids = { keyId: string; eventId: string };
const ids: Ids = { keyId: "", eventId: "" };

const limiter = new RateLimiter(component, { bucket: BUCKET });
const audit = new AuditLog(component);
const confirmations = new Confirmations(component, { secret: "s".repeat(64) });
const apiKeys = new ApiKeys(component, { prefix: "sk_test", scopes: ["read"] });
const access = new Access(component, {
  roles: { member: { permissions: ["posts.read"] }, admin: { inherits: ["member"] } },
});

const WALK: Record<string, ClientEntry> = {
  RateLimiter: {
    client: limiter,
    methods: {
      limit: ["bucket", { key: "k", count: 1, reserve: false, throws: false }],
      check: ["bucket", { key: "k", count: 1 }],
      limitAll: [[{ name: "bucket", key: "k", count: 1 }], { throws: false }],
      reset: ["bucket", { key: "k" }],
      credit: ["bucket", { key: "k", count: 1 }],
      block: ["bucket", { key: "k", until: T0 + HOUR, reason: "abuse" }],
      unblock: ["bucket", { key: "k" }],
      listBlocks: ["bucket", PAGE],
      stats: [{ name: "bucket", key: "k", from: T0 - HOUR, to: T0, timeZone: "UTC" }],
      getValue: ["bucket", { key: "k", sampleShards: 1 }],
    },
    named: ["limit", "check", "reset", "credit", "block", "unblock", "listBlocks", "getValue"],
    notCalls: ["hookAPI"],
  },
  AuditLog: {
    client: audit,
    methods: {
      log: [
        {
          action: "user.delete",
          actor: { type: "user", id: "u1" },
          targets: [{ type: "user", id: "u2" }],
          outcome: "success",
          context: { ip: "10.0.0.1" },
        },
      ],
      list: [{ actor: { type: "user", id: "u1" }, paginationOpts: PAGE }],
      get: ({ eventId }) => [eventId, { reveal: false }],
      verify: [{ maxEvents: 10 }],
      head: [],
      proof: ({ eventId }) => [eventId, { headN: 0 }],
      seal: [],
      erase: [{ subject: { type: "user", id: "u1" }, actor: { type: "admin", id: "a" } }],
      export: [{ format: "jsonl", paginationOpts: PAGE }],
    },
  },
  Confirmations: {
    client: confirmations,
    methods: {
      issue: [{ subject: "u1", action: "email.change", payload: { to: "a@b.c" } }],
      consume: [{ subject: "u1", action: "email.change", payload: { to: "a@b.c" }, code: "1" }],
      status: [{ subject: "u1", action: "email.change" }],
      revoke: [{ subject: "u1", action: "email.change" }],
    },
    refuses: ["consume"],
  },
  ApiKeys: {
    client: apiKeys,
    methods: {
      create: [{ name: "ci", owner: { type: "team", id: "t1" }, scopes: ["read"] }],
      verify: [{ key: "sk_test_x", scope: "read" }],
      rotate: ({ keyId }) => [{ keyId, overlap: 0 }],
      revoke: ({ keyId }) => [{ keyId }],
      remove: ({ keyId }) => [{ keyId }],
      get: ({ keyId }) => [{ keyId }],
      list: [{ owner: { type: "team", id: "t1" }, paginationOpts: PAGE }],
    },
    refuses: ["verify"],
    notCalls: ["mutation", "query", "httpAction"],
  },
  Access: {
    client: access,
    methods: {
      can: ["posts.read", { scope: "acme" }],
      check: ["posts.read", { scope: "acme" }],
      grant: [{ actor: { type: "user", id: "u1" }, role: "member", scope: "acme" }],
      revoke: [{ actor: { type: "user", id: "u1" }, role: "member", scope: "acme" }],
      rolesOf: [{ type: "user", id: "u1" }, { scope: "acme" }],
    },
    refuses: ["check"],
    // get/require read the host's own rows through its rules (no component call);
    // the others build host functions.
    notCalls: ["get", "require", "query", "mutation", "action"],
  },
};

/**
 * Bad configurations, per class: each constructor call must throw
 * INVALID_CONFIG (a config is checked where it is written). Explicit nulls for
 * ApiKeys and Confirmations options are their own module's (assertNoNullFields).
 */
const p = (period: number, rate = 10): RateLimitConfig => ({ kind: "token bucket", rate, period });
const BAD_CONFIGS: Record<string, [string, () => unknown][]> = {
  RateLimiter: [
    ["null limits", () => new RateLimiter(component, null as never)],
    ["null config", () => new RateLimiter(component, { x: null as never })],
    ["period 1e-300 ms", () => new RateLimiter(component, { x: p(1e-300) })],
    ["period 0.5 ms", () => new RateLimiter(component, { x: p(0.5) })],
    ["period over ten years", () => new RateLimiter(component, { x: p(1e12) })],
    ["rate 1e-300", () => new RateLimiter(component, { x: p(MINUTE, 1e-300) })],
    ["rate 1e300", () => new RateLimiter(component, { x: p(MINUTE, 1e300) })],
    ["capacity 1e300", () => new RateLimiter(component, { x: { ...p(MINUTE), capacity: 1e300 } })],
    [
      "null shards",
      () => new RateLimiter(component, { x: { ...p(MINUTE), shards: null as never } }),
    ],
    [
      "null applyUpdates",
      () => new RateLimiter(component, { x: { ...p(MINUTE), applyUpdates: null as never } }),
    ],
    [
      "quota limit 1e300",
      () => new RateLimiter(component, { x: { kind: "quota", limit: 1e300, per: "day" } }),
    ],
  ],
  AuditLog: [
    ["null options", () => new AuditLog(component, null as never)],
    ["null redact", () => new AuditLog(component, { redact: null as never })],
    ["null retention", () => new AuditLog(component, { retention: null as never })],
    ["unknown option", () => new AuditLog(component, { bogus: 1 } as never)],
  ],
};

// ---- the bad inputs, derived from a good call ----

type Variant = { label: string; args: unknown[] };

const LONE = "\uD800";
/** Fields that take any Convex value (a confirmation's payload, audit metadata): nothing to break. */
const OPAQUE = new Set(["payload", "metadata"]);
const GARBAGE_CURSORS = ["garbage", "{", "[1,2", "null", "\u0000"];

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A value of another type than `x`. */
function wrongType(x: unknown): unknown {
  if (Array.isArray(x)) return {};
  return typeof x === "string" ? 42 : "not-a-" + typeof x;
}

/** Bad versions of `value` (at `at`), each with a label. */
function badValues(value: unknown, at: string, depth: number): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (value !== null) out.push([`${at}: null`, null]);
  out.push([`${at}: wrong type`, wrongType(value)]);
  if (typeof value === "string") out.push([`${at}: lone surrogate`, value + LONE]);
  if (isPlainObject(value) && depth < 3) {
    out.push([`${at}: unknown field`, { ...value, bogus: 1 }]);
    for (const [k, x] of Object.entries(value)) {
      if (OPAQUE.has(k)) continue;
      if (k === "cursor") {
        for (const c of GARBAGE_CURSORS)
          out.push([`${at}.cursor: garbage ${c}`, { ...value, cursor: c }]);
      }
      for (const [label, bad] of badValues(x, `${at}.${k}`, depth + 1))
        out.push([label, { ...value, [k]: bad }]);
    }
  }
  if (Array.isArray(value) && value.length > 0 && depth < 3) {
    for (const [label, bad] of badValues(value[0], `${at}[0]`, depth + 1))
      out.push([label, [bad, ...value.slice(1)]]);
  }
  return out;
}

function variants(good: unknown[], named: boolean): Variant[] {
  const out: Variant[] = [];
  good.forEach((value, i) => {
    for (const [label, bad] of badValues(value, `arg${i}`, 0)) {
      const args = [...good];
      args[i] = bad;
      out.push({ label, args });
    }
  });
  if (named) out.push({ label: "unknown name", args: ["no-such-limit", ...good.slice(1)] });
  return out;
}

// ---- running a call ----

const TABLES = Object.keys(schema.tables);

/** Every table of the component, and its scheduled functions. */
async function dump(t: T): Promise<string> {
  return runInGuard(t, async (ctx) => {
    const tables: Record<string, unknown> = {};
    for (const name of TABLES) tables[name] = await ctx.db.query(name as never).collect();
    tables._scheduled = await ctx.db.system.query("_scheduled_functions").collect();
    return JSON.stringify(tables, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
  });
}

type Outcome = { code?: string; refusal?: string; raw?: string; accepted?: boolean };

async function outcome(t: T, run: (ctx: Ctx) => Promise<unknown>): Promise<Outcome> {
  try {
    const r = await t.mutation(async (ctx) => run(ctx));
    if (isPlainObject(r) && r.ok === false) return { refusal: String(r.reason) };
    return { accepted: true };
  } catch (e) {
    if (isGuardError(e)) return { code: e.data.code };
    return { raw: e instanceof Error ? e.message.slice(0, 200) : String(e) };
  }
}

function call(client: object, method: string, ctx: Ctx, args: unknown[]): Promise<unknown> {
  const fn: unknown = Reflect.get(client, method);
  if (typeof fn !== "function") throw new Error(`${method} is not a method`);
  return Promise.resolve(Reflect.apply(fn, client, [ctx, ...args]));
}

const CODES = new Set<string>(Object.values(ErrorCode));

describe("validation walk", () => {
  let t: T;
  beforeEach(async () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    t = guardTest();
    // Existing state in every capability, so "nothing changed" means something.
    await t.mutation(async (ctx) => {
      await limiter.limit(ctx, "bucket", { key: "k" });
      const actor = { type: "user", id: "u1" };
      ids.eventId = await audit.log(ctx, { action: "a", actor, outcome: "success" });
      await confirmations.issue(ctx, { subject: "u1", action: "email.change" });
      const owner = { type: "team", id: "t1" };
      ids.keyId = (await apiKeys.create(ctx, { name: "ci", owner, scopes: [] })).keyId;
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("the table covers every public method of every client class", () => {
    for (const [name, entry] of Object.entries(WALK)) {
      const proto: unknown = Object.getPrototypeOf(entry.client);
      const declared = Object.getOwnPropertyNames(proto).filter(
        (m) => m !== "constructor" && typeof Reflect.get(entry.client, m) === "function",
      );
      const covered = new Set([...Object.keys(entry.methods), ...(entry.notCalls ?? [])]);
      // TypeScript-private helpers are on the prototype too; every public one must be walked.
      const publicMethods = declared.filter((m) => !PRIVATE_HELPERS.has(m));
      expect(
        publicMethods.filter((m) => !covered.has(m)),
        name,
      ).toEqual([]);
    }
  });

  test("the table's good calls are good (so each bad input tests what it changes)", async () => {
    const failures: string[] = [];
    for (const [className, entry] of Object.entries(WALK)) {
      for (const [method, table] of Object.entries(entry.methods)) {
        const good = typeof table === "function" ? table(ids) : table;
        const o = await outcome(t, (ctx) => call(entry.client, method, ctx, good));
        if (o.accepted !== true && o.refusal === undefined)
          failures.push(`${className}.${method}: ${JSON.stringify(o)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("degenerate or null configurations are INVALID_CONFIG at construction", () => {
    const failures: string[] = [];
    for (const [className, cases] of Object.entries(BAD_CONFIGS)) {
      for (const [label, make] of cases) {
        let code: string | undefined = "accepted";
        try {
          make();
        } catch (e) {
          code = isGuardError(e) ? e.data.code : `raw: ${String(e)}`;
        }
        if (code !== ErrorCode.INVALID_CONFIG) failures.push(`${className} ${label}: ${code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  for (const [className, entry] of Object.entries(WALK)) {
    test(`${className}: every bad input gets a coded error and changes nothing`, async () => {
      const failures: string[] = [];
      let count = 0;
      for (const [method, table] of Object.entries(entry.methods)) {
        const good = typeof table === "function" ? table(ids) : table;
        const named = entry.named?.includes(method) ?? false;
        for (const v of variants(good, named)) {
          const before = await dump(t);
          const o = await outcome(t, (ctx) => call(entry.client, method, ctx, v.args));
          const after = await dump(t);
          count++;
          const where = `${className}.${method} ${v.label}`;
          const refusalOk = o.refusal !== undefined && (entry.refuses ?? []).includes(method);
          if (!(o.code !== undefined && CODES.has(o.code)) && !refusalOk)
            failures.push(`${where}: ${JSON.stringify(o)}`);
          if (after !== before) failures.push(`${where}: changed state`);
        }
      }
      expect(failures).toEqual([]);
      expect(count).toBeGreaterThan(10);
    });
  }
});

/** TypeScript-private methods of the classes above (on the prototype at run time). */
const PRIVATE_HELPERS = new Set([
  "limitArgs",
  "configFor",
  "assertKnown",
  "actionMismatch",
  "payloadDigestOf",
  "macs",
  "record",
  "recordDenial",
  "secrets",
  "register",
]);
