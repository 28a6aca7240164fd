import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { DAY, HOUR, MINUTE } from "../../src/component/lib/time.js";
import { AuditLog } from "../../src/client/auditLog.js";
import { ApiKeys } from "../../src/client/apiKeys.js";
import { components, runInGuard } from "../setup.js";
import {
  OWNER,
  SCOPES,
  advance,
  dumpComponent,
  keyRows,
  partsOf,
  setup,
  unknownKey,
  useClock,
  wrongSecret,
} from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

describe("create and verify", () => {
  test("a created key verifies with its identity and scopes; the plaintext is returned once", async () => {
    const s = setup();
    const { keyId, key, createdAt } = await s.create({ scopes: ["orders:read", "orders:write"] });
    expect(key).toMatch(/^sk_test_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}$/);
    expect(partsOf(key).keyId).toBe(keyId);
    expect(createdAt).toBe(Date.now());
    expect(await s.verify(key, "orders:write")).toEqual({
      ok: true,
      keyId,
      name: "Next.js server",
      owner: OWNER,
      scopes: ["orders:read", "orders:write"],
    });
    expect(await s.verify(key)).toMatchObject({ ok: true, keyId });
    expect(await s.verifyQuery(key, "orders:read")).toMatchObject({ ok: true, keyId });
  });

  test("two keys never share an id or a secret", async () => {
    const s = setup();
    const a = await s.create();
    const b = await s.create();
    expect(a.keyId).not.toBe(b.keyId);
    expect(partsOf(a.key).secret).not.toBe(partsOf(b.key).secret);
  });

  test("a key without the scope is refused as scope", async () => {
    const s = setup();
    const { key } = await s.create({ scopes: ["orders:read"] });
    expect(await s.verify(key, "orders:write")).toEqual({ ok: false, reason: "scope" });
    expect(await s.verifyQuery(key, "orders:write")).toEqual({ ok: false, reason: "scope" });
  });

  test("a wrong secret and an unknown key id get the same answer", async () => {
    const s = setup();
    const { key } = await s.create();
    expect(await s.verify(wrongSecret(key))).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verify(unknownKey("sk_test"))).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verifyQuery(wrongSecret(key))).toEqual({ ok: false, reason: "unknown" });
  });

  test("an expired key answers expired from its expiry on", async () => {
    const s = setup();
    const { key } = await s.create({ expiresAt: Date.now() + HOUR });
    advance(HOUR - 1);
    expect(await s.verify(key)).toMatchObject({ ok: true });
    advance(1);
    expect(await s.verify(key)).toEqual({ ok: false, reason: "expired" });
    expect(await s.get(partsOf(key).keyId)).toMatchObject({ state: "expired" });
  });

  test("lastUsedAt is written at most once a minute", async () => {
    const s = setup();
    const { key, keyId } = await s.create();
    await s.verify(key);
    expect((await s.get(keyId))!.lastUsedAt).toBe(Date.now());
    const first = Date.now();
    advance(30_000);
    await s.verify(key);
    expect((await s.get(keyId))!.lastUsedAt).toBe(first);
    advance(30_000);
    await s.verify(key);
    expect((await s.get(keyId))!.lastUsedAt).toBe(first + MINUTE);
  });
});

describe("rotate and revoke", () => {
  test("after rotate both keys work during the overlap, then only the new one", async () => {
    const s = setup();
    const old = await s.create();
    const next = await s.rotate(old.keyId, HOUR);
    expect(next.keyId).toBe(old.keyId);
    expect(next.key).not.toBe(old.key);
    expect(next.previousValidUntil).toBe(Date.now() + HOUR);
    expect(await s.verify(old.key)).toMatchObject({ ok: true });
    expect(await s.verify(next.key)).toMatchObject({ ok: true });
    expect(await s.get(old.keyId)).toMatchObject({
      rotatedAt: Date.now(),
      previousValidUntil: Date.now() + HOUR,
    });
    advance(HOUR);
    expect(await s.verify(old.key)).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verify(next.key)).toMatchObject({ ok: true });
    expect((await s.get(old.keyId))!.previousValidUntil).toBeUndefined();
  });

  test("rotating with overlap 0 ends the old key at once; rotating again ends an earlier overlap", async () => {
    const s = setup();
    const a = await s.create();
    const b = await s.rotate(a.keyId, 0);
    expect(await s.verify(a.key)).toEqual({ ok: false, reason: "unknown" });
    const c = await s.rotate(a.keyId, DAY);
    const d = await s.rotate(a.keyId, DAY);
    expect(await s.verify(b.key)).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verify(c.key)).toMatchObject({ ok: true });
    expect(await s.verify(d.key)).toMatchObject({ ok: true });
  });

  test("the default overlap is one day", async () => {
    const s = setup();
    const a = await s.create();
    expect((await s.rotate(a.keyId)).previousValidUntil).toBe(Date.now() + DAY);
  });

  test("revoke takes effect in the same transaction, for every secret of the key", async () => {
    const s = setup();
    const a = await s.create();
    const b = await s.rotate(a.keyId, DAY);
    const inTx = await s.t.mutation(async (ctx) => {
      const before = await s.keys.verify(ctx, { key: b.key });
      const r = await s.keys.revoke(ctx, { keyId: a.keyId });
      const after = await s.keys.verify(ctx, { key: b.key });
      return { before, r, after };
    });
    expect(inTx.before.ok).toBe(true);
    expect(inTx.r).toEqual({ revoked: true });
    expect(inTx.after).toEqual({ ok: false, reason: "revoked" });
    expect(await s.verify(a.key)).toEqual({ ok: false, reason: "revoked" });
    expect(await s.revoke(a.keyId)).toEqual({ revoked: false });
    await expect(s.rotate(a.keyId)).rejects.toThrow(/cannot rotate a revoked key/);
  });

  test("revoked keys stay listed until retention, then maintenance deletes them", async () => {
    const s = setup({ retention: { days: 7 } });
    const a = await s.create();
    const live = await s.create();
    await s.revoke(a.keyId);
    expect(await s.get(a.keyId)).toMatchObject({
      state: "revoked",
      revokedAt: Date.now(),
      purgeAt: Date.now() + 7 * DAY,
    });
    const run = () =>
      s.t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    await run();
    expect(await s.get(a.keyId)).not.toBeNull();
    advance(7 * DAY);
    await run();
    expect(await s.get(a.keyId)).toBeNull();
    expect(await s.get(live.keyId)).not.toBeNull();
  });

  test("remove deletes a key at once", async () => {
    const s = setup();
    const a = await s.create();
    expect(await s.t.mutation((ctx) => s.keys.remove(ctx, { keyId: a.keyId }))).toEqual({
      removed: true,
    });
    expect(await s.verify(a.key)).toEqual({ ok: false, reason: "unknown" });
    expect(await s.t.mutation((ctx) => s.keys.remove(ctx, { keyId: a.keyId }))).toEqual({
      removed: false,
    });
  });
});

describe("list", () => {
  test("lists metadata of one owner, newest first, never a key or digest", async () => {
    const s = setup();
    const a = await s.create({ name: "a" });
    advance(1);
    const b = await s.create({ name: "b" });
    await s.create({ name: "other", owner: { type: "team", id: "team-2" } });
    const page = await s.t.query((ctx) =>
      s.keys.list(ctx, { owner: OWNER, paginationOpts: { numItems: 10, cursor: null } }),
    );
    expect(page.page.map((k) => k.keyId)).toEqual([b.keyId, a.keyId]);
    expect(page.isDone).toBe(true);
    const all = await s.t.query((ctx) =>
      s.keys.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
    );
    expect(all.page).toHaveLength(3);
    const json = JSON.stringify(all);
    expect(json).not.toContain("digest");
    for (const k of [a, b]) expect(json).not.toContain(partsOf(k.key).secret);
  });
});

describe("limits", () => {
  test("the per-key limit refuses with retryAfter, per key", async () => {
    const s = setup({ limit: { kind: "token bucket", rate: 3, period: MINUTE } });
    const a = await s.create();
    const b = await s.create();
    for (let i = 0; i < 3; i++) expect(await s.verify(a.key)).toMatchObject({ ok: true });
    const denied = await s.verify(a.key);
    expect(denied).toMatchObject({ ok: false, reason: "rate_limited" });
    expect((denied as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    expect(await s.verifyQuery(a.key)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await s.verify(b.key)).toMatchObject({ ok: true });
    advance(MINUTE);
    expect(await s.verify(a.key)).toMatchObject({ ok: true });
  });

  test("wrong secrets are counted per key id; beyond the budget they are rate-limited while the right key works", async () => {
    const s = setup({ denialLimit: { rate: 3, period: MINUTE } });
    const a = await s.create();
    const other = await s.create();
    for (let i = 0; i < 3; i++)
      expect(await s.verify(wrongSecret(a.key))).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verify(wrongSecret(a.key))).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await s.verify(a.key)).toMatchObject({ ok: true });
    expect(await s.verify(wrongSecret(other.key))).toEqual({ ok: false, reason: "unknown" });
    const denials = s.events.filter((e) => e.action === "guard.apiKey.deny");
    expect(denials).toHaveLength(4);
    expect(
      denials
        .slice(0, 3)
        .every((e) => e.reason === "wrong_secret" && e.targets![0]!.id === a.keyId),
    ).toBe(true);
  });

  test("denied verifications are audited within the denial budget only", async () => {
    const s = setup({ denialLimit: { rate: 2, period: MINUTE } });
    const a = await s.create({ scopes: ["orders:read"] });
    for (let i = 0; i < 5; i++) await s.verify(a.key, "orders:write");
    for (let i = 0; i < 5; i++) await s.verify(unknownKey("sk_test"));
    const denials = s.events.filter((e) => e.action === "guard.apiKey.deny");
    expect(denials.map((e) => e.reason)).toEqual(["scope", "scope", "unknown_key", "unknown_key"]);
    advance(2 * MINUTE);
    await s.verify(a.key, "orders:write");
    expect(s.events.filter((e) => e.action === "guard.apiKey.deny")).toHaveLength(5);
  });

  test("a query verification writes nothing and audits nothing", async () => {
    const s = setup({ limit: { kind: "token bucket", rate: 2, period: MINUTE } });
    const a = await s.create();
    const before = await dumpComponent(s.t);
    for (let i = 0; i < 5; i++) await s.verifyQuery(a.key);
    await s.verifyQuery(wrongSecret(a.key));
    expect(await dumpComponent(s.t)).toEqual(before);
    expect(s.events.filter((e) => e.action === "guard.apiKey.deny")).toHaveLength(0);
  });
});

describe("malformed keys", () => {
  const bad = (key: string) => [
    "",
    " ",
    "sk_test",
    key.slice(0, -1),
    key + "x",
    key.replace("sk_test", "sk_live"),
    key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21),
    key.slice(0, -1) + (key.endsWith("0") ? "1" : "0"),
    key.toUpperCase(),
    "x".repeat(10_000),
    `${key}\n`,
  ];

  test("mistyped, truncated or foreign keys are malformed without a database read", async () => {
    const s = setup();
    const { key } = await s.create();
    for (const k of bad(key)) {
      const { result, reads } = await s.t.mutation(async (ctx) => {
        const before = (await ctx.meta.getTransactionMetrics()).documentsRead.used;
        const result = await s.keys.verify(ctx, { key: k });
        return {
          result,
          reads: (await ctx.meta.getTransactionMetrics()).documentsRead.used - before,
        };
      });
      expect(result, JSON.stringify(k)).toEqual({ ok: false, reason: "malformed" });
      expect(reads).toBe(0);
    }
    for (const k of [null, undefined, 42, {}, ["a"]]) {
      expect(await s.t.mutation((ctx) => s.keys.verify(ctx, { key: k as never }))).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
  });
});

describe("no plaintext anywhere", () => {
  test("no table, scheduled job or audit event holds a key or a secret", async () => {
    const t = setup().t;
    const audit = new AuditLog(components.guard);
    const keys = new ApiKeys(components.guard, {
      prefix: "sk_live",
      scopes: SCOPES,
      audit,
      limit: { kind: "token bucket", rate: 2, period: MINUTE },
    });
    const made: string[] = [];
    const a = await t.mutation((ctx) =>
      keys.create(ctx, {
        name: "a",
        owner: OWNER,
        scopes: ["orders:read"],
        expiresAt: Date.now() + DAY,
      }),
    );
    made.push(a.key);
    const r = await t.mutation((ctx) => keys.rotate(ctx, { keyId: a.keyId, overlap: HOUR }));
    made.push(r.key);
    for (let i = 0; i < 4; i++)
      await t.mutation((ctx) => keys.verify(ctx, { key: a.key, scope: "orders:read" }));
    await t.mutation((ctx) => keys.verify(ctx, { key: wrongSecret(a.key) }));
    await t.mutation((ctx) => keys.verify(ctx, { key: r.key, scope: "orders:write" }));
    await t.mutation((ctx) => keys.revoke(ctx, { keyId: a.keyId }));
    await t.mutation((ctx) => keys.verify(ctx, { key: r.key }));
    const dump = (await dumpComponent(t)).join("\n");
    const events = await t.query((ctx) =>
      audit.list(ctx, { paginationOpts: { numItems: 100, cursor: null } }),
    );
    expect(events.page.map((e) => e.action).sort()).toEqual(
      // 2 over the limit, 1 wrong secret, 1 missing scope, 1 revoked.
      [
        "guard.apiKey.create",
        "guard.apiKey.rotate",
        "guard.apiKey.revoke",
        ...Array(5).fill("guard.apiKey.deny"),
      ].sort(),
    );
    const all = dump + JSON.stringify(events);
    for (const key of made) {
      const { secret } = partsOf(key);
      expect(all).not.toContain(key);
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(0, 16));
    }
    const rows = await keyRows(t);
    expect(rows[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("bad input", () => {
  test("every entry point refuses bad input with a coded error and changes nothing", async () => {
    const s = setup();
    const a = await s.create();
    const before = await dumpComponent(s.t);
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return (e as { data?: { code?: string } }).data?.code;
      }
      return "no error";
    };
    const create = (args: Record<string, unknown>) =>
      code(
        s.t.mutation((ctx) =>
          s.keys.create(ctx, {
            name: "n",
            owner: OWNER,
            scopes: ["orders:read"],
            ...args,
          } as never),
        ),
      );
    expect(await create({ name: "" })).toBe("INVALID_ARGUMENT");
    expect(await create({ name: "   " })).toBe("INVALID_ARGUMENT");
    expect(await create({ name: "a\nb" })).toBe("INVALID_ARGUMENT");
    expect(await create({ name: "x".repeat(129) })).toBe("TOO_LARGE");
    expect(await create({ scopes: ["orders:delete"] })).toBe("INVALID_ARGUMENT");
    expect(await create({ scopes: ["orders:read", "orders:read"] })).toBe("INVALID_ARGUMENT");
    expect(await create({ scopes: "orders:read" })).toBe("INVALID_ARGUMENT");
    expect(await create({ expiresAt: Date.now() })).toBe("INVALID_ARGUMENT");
    expect(await create({ expiresAt: Date.now() - 1 })).toBe("INVALID_ARGUMENT");
    expect(await create({ expiresAt: NaN })).toBe("INVALID_ARGUMENT");
    expect(await create({ owner: { type: "", id: "x" } })).toBe("INVALID_ARGUMENT");
    expect(await create({ owner: null })).toBe("INVALID_ARGUMENT");
    expect(await code(s.rotate(a.keyId, -1))).toBe("INVALID_ARGUMENT");
    expect(await code(s.rotate(a.keyId, 31 * DAY))).toBe("INVALID_ARGUMENT");
    expect(await code(s.rotate(a.keyId, NaN))).toBe("INVALID_ARGUMENT");
    expect(await code(s.rotate("nope"))).toBe("INVALID_ARGUMENT");
    expect(await code(s.rotate("0".repeat(16)))).toBe("NOT_FOUND");
    expect(await code(s.revoke("0".repeat(16)))).toBe("NOT_FOUND");
    expect(await code(s.verify(a.key, "orders:delete" as never))).toBe("INVALID_ARGUMENT");
    expect(
      await code(
        s.t.query((ctx) => s.keys.list(ctx, { paginationOpts: { numItems: 0, cursor: null } })),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await dumpComponent(s.t)).toEqual(before);
  });

  test("the component checks its own input (a host calling it directly)", async () => {
    const s = setup();
    const a = await s.create();
    const before = await dumpComponent(s.t);
    const call = (args: Record<string, unknown>) =>
      s.t.mutation((ctx) =>
        ctx.runMutation(components.guard.apiKeys.verify, {
          keyId: a.keyId,
          digest: "0".repeat(64),
          denialLimit: { rate: 10, period: MINUTE },
          audit: false,
          ...args,
        } as never),
      );
    await expect(call({ keyId: "short" })).rejects.toThrow(/keyId/);
    await expect(call({ digest: "zz" })).rejects.toThrow(/digest/);
    await expect(call({ scope: "" })).rejects.toThrow(/scope/);
    await expect(call({ denialLimit: { rate: 0, period: MINUTE } })).rejects.toThrow(/denialLimit/);
    await expect(
      call({ limit: { kind: "token bucket", rate: -1, period: MINUTE } }),
    ).rejects.toThrow();
    const create = (args: Record<string, unknown>) =>
      s.t.mutation((ctx) =>
        ctx.runMutation(components.guard.apiKeys.create, {
          keyId: "1".repeat(16),
          digest: "0".repeat(64),
          prefix: "sk_test",
          name: "n",
          owner: OWNER,
          scopes: ["a"],
          declaredScopes: ["a"],
          retention: DAY,
          maxKeysPerOwner: 10,
          ...args,
        } as never),
      );
    await expect(create({ scopes: ["b"] })).rejects.toThrow(/unknown scope/);
    await expect(create({ keyId: a.keyId })).rejects.toMatchObject({
      data: { code: "ALREADY_EXISTS" },
    });
    await expect(create({ prefix: "bad prefix" })).rejects.toThrow(/prefix/);
    await expect(create({ retention: 0 })).rejects.toThrow(/retention/);
    expect(await dumpComponent(s.t)).toEqual(before);
  });

  test("an owner holds at most maxKeysPerOwner keys", async () => {
    const s = setup({ maxKeysPerOwner: 2 });
    await s.create();
    await s.create();
    await expect(s.create()).rejects.toThrow(/already has 2 API keys/);
    await s.create({ owner: { type: "team", id: "other" } });
  });

  test("bad options are INVALID_CONFIG", () => {
    const make = (o: Record<string, unknown>) => () =>
      new ApiKeys(components.guard, { prefix: "sk_live", scopes: ["a"], ...o } as never);
    for (const o of [
      { prefix: "" },
      { prefix: "sk live" },
      { prefix: "_sk" },
      { prefix: "sk__live" },
      { prefix: "a".repeat(33) },
      { scopes: ["a", "a"] },
      { scopes: "a" },
      { limit: { kind: "nope", rate: 1, period: 1 } },
      { denialLimit: { rate: 0, period: MINUTE } },
      { retention: { days: 0 } },
      { maxKeysPerOwner: 0 },
      { audit: {} },
    ]) {
      expect(make(o), JSON.stringify(o)).toThrow(
        expect.objectContaining({ data: expect.objectContaining({ code: "INVALID_CONFIG" }) }),
      );
    }
  });
});

test("keys of one prefix never verify under another, even relabelled", async () => {
  const s = setup();
  const { key } = await s.create();
  const live = new ApiKeys(components.guard, { prefix: "sk_live", scopes: SCOPES });
  const { keyId, secret } = partsOf(key);
  const { forge } = await import("./forge.js");
  const relabelled = forge("sk_live", keyId, secret);
  expect(await s.t.mutation((ctx) => live.verify(ctx, { key }))).toEqual({
    ok: false,
    reason: "malformed",
  });
  expect(await s.t.mutation((ctx) => live.verify(ctx, { key: relabelled }))).toEqual({
    ok: false,
    reason: "unknown",
  });
  expect(
    await runInGuard(s.t, async (ctx) => (await ctx.db.query("apiKeys").collect()).length),
  ).toBe(1);
});
