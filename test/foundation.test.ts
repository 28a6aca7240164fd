import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { components, guardTest, measure } from "./setup.js";

describe("foundation", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test("the component is installed and its maintenance pass runs from a host mutation", async () => {
    const t = guardTest();
    const result = await t.mutation(async (ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(result).toEqual({ rateLimits: 0, audit: 0, codes: 0, apiKeys: 0, more: false });
  });

  test("host transaction metrics are readable around a component call", async () => {
    const t = guardTest();
    const { cost } = await measure(t, (ctx) =>
      ctx.runMutation(components.guard.maintenance.runNow, {}),
    );
    expect(cost.documentsWritten).toBe(0);
  });
});
