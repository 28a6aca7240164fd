import { afterEach, beforeEach, expect, test, vi } from "vitest";
import {
  ApiKeys,
  HOUR,
  MINUTE,
  RateLimiter,
  type AuditSink,
  type GuardAuditEvent,
} from "convex-guard";
import { components, guardTest } from "../setup.js";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => vi.useRealTimers());

test("one system actor: events the clients record without an actor name convex-guard", async () => {
  const t = guardTest();
  const events: GuardAuditEvent[] = [];
  const audit: AuditSink = { log: async (_ctx, e) => events.push(e) };
  const limiter = new RateLimiter(components.guard, {
    api: { kind: "token bucket", rate: 10, period: MINUTE },
  });
  const keys = new ApiKeys(components.guard, { prefix: "sk", scopes: ["a"], audit });
  await t.mutation(async (ctx) => {
    await limiter.block(ctx, "api", { key: "k", until: Date.now() + HOUR, audit });
    await limiter.unblock(ctx, "api", { key: "k", audit });
    await keys.create(ctx, { name: "n", owner: { type: "team", id: "t" }, scopes: ["a"] });
  });
  expect(events.map((e) => [e.action, e.actor])).toEqual([
    ["guard.rateLimit.block", { type: "system", id: "convex-guard" }],
    ["guard.rateLimit.unblock", { type: "system", id: "convex-guard" }],
    ["guard.apiKey.create", { type: "system", id: "convex-guard" }],
  ]);
});
