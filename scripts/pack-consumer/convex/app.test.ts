/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import guardTest from "convex-guard/test";
import { expect, test } from "vitest";
import { api } from "./_generated/api.js";

const loaded = import.meta.glob(["./**/*.ts", "!./**/*.test.ts", "!./convex.config.ts"], {
  eager: true,
});
const modules = Object.fromEntries(Object.entries(loaded).map(([p, m]) => [p, async () => m]));

test("the installed package limits, audits and confirms inside the host app", async () => {
  const t = convexTest(undefined, modules);
  guardTest.register(t);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(true);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(true);
  expect(await t.mutation(api.app.send, { user: "u1" })).toBe(false);
  expect(await t.query(api.app.recent, {})).toHaveLength(3);
  expect(await t.mutation(api.app.confirmRoundTrip, { user: "u2" })).toBe(true);
});
