import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import { queryGeneric } from "convex/server";
import { Access } from "../../src/client/access.js";
import { register } from "../../src/test.js";
import { components } from "../setup.js";
import { ALICE, api, schema, useClock } from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

function appOf(fns: Record<string, unknown>) {
  const t = convexTest(schema, {
    "./host/_generated/api.ts": async () => ({}),
    "./host/posts.ts": async () => fns,
  });
  register(t);
  return t;
}

describe("review fixes", () => {
  test("two Access instances in one call do not share roles", async () => {
    // `tenant` gives everyone its `admin` (a weak role); `platform` stores grants, and its `admin` is strong.
    const tenant = new Access(components.guard, {
      roles: { admin: { permissions: ["tenant.read"] } },
      roleOf: () => "admin",
    });
    const platform = new Access(components.guard, {
      roles: { admin: { permissions: ["platform.all"] } },
    });
    const both = queryGeneric({
      args: {},
      handler: async (ctx) => [
        await tenant.can(ctx, "tenant.read"),
        await platform.can(ctx, "platform.all"),
      ],
    });
    const t = appOf({ both });
    expect(await t.withIdentity(ALICE).query(api("both"), {})).toEqual([true, false]);
  });
});
