/**
 * The probe reuses a state after a mutation that threw (scenario reuse in
 * cases.ts): that is sound only if the throw rolled back every write,
 * convex-guard's own rows included.
 */
import { expect, test } from "vitest";
import { RateLimiter } from "../../src/client/index.js";
import { components, guardTest, runInGuard } from "../setup.js";

test("a mutation that throws after writing to the component leaves no row behind", async () => {
  const t = guardTest();
  const limiter = new RateLimiter(components.guard, {
    send: { kind: "fixed window", rate: 5, period: 60_000 },
  });
  const rows = () =>
    runInGuard(t, async (ctx) => (await ctx.db.query("rateLimits").collect()).length);
  await expect(
    t.mutation(async (ctx) => {
      await limiter.limit(ctx, "send", { key: "b" });
      throw new Error("denied after the limit was taken");
    }),
  ).rejects.toThrow("denied after");
  expect(await rows()).toBe(0);
  await t.mutation((ctx) => limiter.limit(ctx, "send", { key: "b" }));
  expect(await rows()).toBe(1);
});
