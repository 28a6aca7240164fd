import { expectTypeOf, test } from "vitest";
import {
  mutationGeneric,
  type GenericMutationCtx,
  type GenericDataModel,
  type RegisteredMutation,
} from "convex/server";
import { v } from "convex/values";
import { ApiKeys, type ApiKeyDenial, type ApiKeyVerifyResult } from "../../src/client/apiKeys.js";
import { components } from "../setup.js";

const keys = new ApiKeys(components.guard, {
  prefix: "sk_live",
  scopes: ["orders:read", "orders:write"],
});
declare const ctx: GenericMutationCtx<GenericDataModel>;

test("scope names are checked at compile time", () => {
  void keys.create(ctx, { name: "n", owner: { type: "team", id: "t" }, scopes: ["orders:read"] });
  // @ts-expect-error an undeclared scope
  void keys.create(ctx, { name: "n", owner: { type: "team", id: "t" }, scopes: ["orders:delete"] });
  // @ts-expect-error an undeclared scope
  void keys.verify(ctx, { key: "k", scope: "orders:delete" });
  // @ts-expect-error an undeclared scope
  keys.mutation(mutationGeneric, { scope: "admin" });
  expectTypeOf(keys.verify(ctx, { key: "k" })).resolves.toEqualTypeOf<
    ApiKeyVerifyResult<"orders:read" | "orders:write">
  >();
});

test("wrapped functions add apiKey to args and the denial to the result", () => {
  const fn = keys.mutation(mutationGeneric, { scope: "orders:write" })({
    args: { item: v.string() },
    handler: async (c, args) => {
      expectTypeOf(c.apiKey.scopes).toEqualTypeOf<("orders:read" | "orders:write")[]>();
      expectTypeOf(args).toEqualTypeOf<{ item: string }>();
      return 42;
    },
  });
  expectTypeOf(fn).toEqualTypeOf<
    RegisteredMutation<
      "public",
      { item: string } & { apiKey: string },
      Promise<number | ApiKeyDenial>
    >
  >();
});
