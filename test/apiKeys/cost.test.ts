/**
 * What each API-key call costs, from convex-test's transaction metrics
 * (a patch counts as a read of the patched document too). The bench's
 * `verify` rows and promises rest on these numbers.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ApiKeys, MINUTE } from "convex-guard";
import { components, guardTest, measure, measureQuery, rw } from "../setup.js";
import { OWNER, SCOPES, advance, forge, partsOf, useClock, wrongSecret } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

async function withKey(options: { limit?: boolean } = {}) {
  const t = guardTest();
  const keys = new ApiKeys(components.guard, {
    prefix: "sk_live",
    scopes: SCOPES,
    ...(options.limit
      ? { limit: { kind: "token bucket" as const, rate: 600, period: MINUTE } }
      : {}),
  });
  const { key } = await t.mutation((ctx) =>
    keys.create(ctx, { name: "n", owner: OWNER, scopes: ["orders:read"] }),
  );
  return { t, keys, key };
}

describe("verify cost (documents read / written)", () => {
  test("a valid key reads 1 document and writes nothing, except lastUsedAt once a minute", async () => {
    const { t, keys, key } = await withKey();
    const first = await measure(t, (ctx) => keys.verify(ctx, { key, scope: "orders:read" }));
    expect(first.result.ok).toBe(true);
    expect(rw(first.cost)).toEqual({ read: 2, written: 1 }); // read + patch of lastUsedAt
    const again = await measure(t, (ctx) => keys.verify(ctx, { key, scope: "orders:read" }));
    expect(rw(again.cost)).toEqual({ read: 1, written: 0 });
    expect(again.cost.databaseQueries).toBe(1);
    advance(MINUTE);
    expect(rw((await measure(t, (ctx) => keys.verify(ctx, { key }))).cost)).toEqual({
      read: 2,
      written: 1,
    });
  });

  test("in a query a valid key reads 1 document and writes nothing", async () => {
    const { t, keys, key } = await withKey();
    const r = await measureQuery(t, (ctx) => keys.verify(ctx, { key, scope: "orders:read" }));
    expect(r.result.ok).toBe(true);
    expect(rw(r.cost)).toEqual({ read: 1, written: 0 });
  });

  test("with a per-key limit: plus the limiter's one document", async () => {
    const { t, keys, key } = await withKey({ limit: true });
    await t.mutation((ctx) => keys.verify(ctx, { key }));
    const r = await measure(t, (ctx) => keys.verify(ctx, { key }));
    expect(rw(r.cost)).toEqual({ read: 3, written: 1 }); // key + limiter (read + patch)
    const q = await measureQuery(t, (ctx) => keys.verify(ctx, { key }));
    expect(rw(q.cost)).toEqual({ read: 2, written: 0 });
  });

  test("a malformed key reads nothing", async () => {
    const { t, keys, key } = await withKey({ limit: true });
    const r = await measure(t, (ctx) => keys.verify(ctx, { key: key.slice(0, -2) }));
    expect(r.result).toEqual({ ok: false, reason: "malformed" });
    expect(rw(r.cost)).toEqual({ read: 0, written: 0 });
  });

  test("a wrong secret reads the key and its denial budget; beyond the budget it writes nothing", async () => {
    const { t, keys, key } = await withKey();
    await t.mutation((ctx) => keys.verify(ctx, { key: wrongSecret(key) }));
    const counted = await measure(t, (ctx) => keys.verify(ctx, { key: wrongSecret(key) }));
    expect(counted.result).toEqual({ ok: false, reason: "unknown" });
    expect(rw(counted.cost)).toEqual({ read: 3, written: 1 });
    for (let i = 0; i < 10; i++)
      await t.mutation((ctx) => keys.verify(ctx, { key: wrongSecret(key) }));
    const over = await measure(t, (ctx) => keys.verify(ctx, { key: wrongSecret(key) }));
    expect(over.result).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(rw(over.cost)).toEqual({ read: 2, written: 0 });
  });

  test("an unknown key id writes what a wrong secret writes: its own denial budget", async () => {
    const { t, keys, key } = await withKey();
    const unknown = forge(partsOf(key).prefix, "Q".repeat(16), partsOf(key).secret);
    await t.mutation((ctx) => keys.verify(ctx, { key: unknown }));
    const counted = await measure(t, (ctx) => keys.verify(ctx, { key: unknown }));
    expect(counted.result).toEqual({ ok: false, reason: "unknown" });
    expect(rw(counted.cost)).toEqual({ read: 2, written: 1 });
    for (let i = 0; i < 10; i++) await t.mutation((ctx) => keys.verify(ctx, { key: unknown }));
    const over = await measure(t, (ctx) => keys.verify(ctx, { key: unknown }));
    expect(over.result).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(rw(over.cost)).toEqual({ read: 1, written: 0 });
  });
});
