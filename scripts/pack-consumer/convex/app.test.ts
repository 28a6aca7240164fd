/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import guardTest from "convex-guard/test";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api } from "./_generated/api.js";

const loaded = import.meta.glob(["./**/*.ts", "!./**/*.test.ts", "!./convex.config.ts"], {
  eager: true,
});
const modules = Object.fromEntries(Object.entries(loaded).map(([p, m]) => [p, async () => m]));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9, 0, 0));
});
afterEach(() => vi.useRealTimers());

test("the installed package limits, audits and confirms inside the host app", async () => {
  const t = convexTest(undefined, modules);
  guardTest.register(t);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(true);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(true);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(false);
  expect(await t.mutation(api.app.confirmRoundTrip, { user: "u2" })).toBe(true);
  // settle runs the background work due now (sealing) without moving the clock,
  // so a year's retention does not delete the events under test.
  await guardTest.settle(t);
  expect(await t.query(api.app.recent, {})).toHaveLength(5);
  expect((await t.query(api.app.recent, {})).every((e) => e.sealed)).toBe(true);
});

test("a Confirmations built without its secret loads, then its first use names the secret", async () => {
  const t = convexTest(undefined, modules);
  guardTest.register(t);
  const error = await t.mutation(api.unsetSecret.issue, {}).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConvexError);
  expect((error as ConvexError<Record<string, string>>).data).toMatchObject({
    code: "INVALID_CONFIG",
    client: "Confirmations",
    option: "secret",
  });
  expect((error as ConvexError<Record<string, string>>).data.message).toContain(
    "npx convex env set GUARD_SECRET",
  );
});
