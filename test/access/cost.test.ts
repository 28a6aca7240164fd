/**
 * What access control costs, from convex-test's transaction metrics. The
 * bench's access rows and docs/access-control.md#cost rest on these numbers.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import {
  actionGeneric,
  defineSchema,
  defineTable,
  mutationGeneric,
  type DataModelFromSchemaDefinition,
  type GenericDataModel,
  type GenericMutationCtx,
} from "convex/server";
import { v } from "convex/values";
import { Access, defineRules } from "../../src/client/access.js";
import { register } from "../../src/test.js";
import { components, diffMetrics, readMetrics, type Metrics } from "../setup.js";
import {
  ALICE,
  BOB,
  ROLES,
  api,
  hostTest,
  makeAccess,
  rules,
  schema,
  useClock,
  userRef,
} from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

type Ctx = GenericMutationCtx<GenericDataModel>;
async function measureAs<R>(
  t: ReturnType<typeof hostTest>["t"],
  fn: (ctx: Ctx) => Promise<R>,
): Promise<{ result: R; cost: Metrics }> {
  return t.withIdentity(ALICE).mutation(async (ctx) => {
    const before = await readMetrics(ctx);
    const result = await fn(ctx as Ctx);
    return { result, cost: diffMetrics(await readMetrics(ctx), before) };
  });
}
const rw = (m: Metrics) => ({
  read: m.documentsRead,
  written: m.documentsWritten,
  queries: m.databaseQueries,
});

describe("access cost (documents read / written, index ranges)", () => {
  test("the actor reads nothing", async () => {
    const { t, access } = hostTest();
    const r = await measureAs(t, (ctx) => access.actor(ctx));
    expect(r.result?.type).toBe("user");
    expect(rw(r.cost)).toEqual({ read: 0, written: 0, queries: 0 });
  });

  test("with roleOf a permission check makes no component read", async () => {
    const access = makeAccess({ roleOf: () => "admin" });
    const { t } = hostTest(access);
    const r = await measureAs(t, (ctx) => access.can(ctx, "org.manage", { scope: "acme" }));
    expect(r.result).toBe(true);
    expect(rw(r.cost)).toEqual({ read: 0, written: 0, queries: 0 });
  });

  test("with stored grants: one indexed read per (actor, scope) per call, inherited roles in memory", async () => {
    const { t, access } = hostTest();
    await t.mutation((ctx) =>
      access.grant(ctx, { actor: userRef(ALICE), role: "owner", scope: "acme" }),
    );
    await t.mutation((ctx) =>
      access.grant(ctx, { actor: userRef(ALICE), role: "member", scope: "globex" }),
    );
    const one = await measureAs(t, async (ctx) => [
      await access.can(ctx, "org.delete", { scope: "acme" }),
      await access.can(ctx, "posts.read", { scope: "acme" }), // inherited through admin and member
      await access.check(ctx, "org.manage", { scope: "acme" }),
    ]);
    expect(one.result.map((x) => (typeof x === "boolean" ? x : x.ok))).toEqual([true, true, true]);
    expect(rw(one.cost)).toEqual({ read: 1, written: 0, queries: 1 });
    const two = await measureAs(t, async (ctx) => [
      await access.can(ctx, "org.delete", { scope: "acme" }),
      await access.can(ctx, "org.delete", { scope: "globex" }),
    ]);
    expect(two.result).toEqual([true, false]);
    expect(rw(two.cost)).toEqual({ read: 2, written: 0, queries: 2 });
  });

  test("grant and revoke: one indexed read and one write each (plus the audit event when audited)", async () => {
    const access = new Access(components.guard, { roles: ROLES });
    const { t } = hostTest(access);
    const grant = await measureAs(t, (ctx) =>
      access.grant(ctx, {
        actor: userRef(ALICE),
        role: "admin",
        scope: "acme",
        expiresAt: Date.now() + 1000,
      }),
    );
    expect(rw(grant.cost)).toEqual({ read: 0, written: 1, queries: 1 });
    const extend = await measureAs(t, (ctx) =>
      access.grant(ctx, {
        actor: userRef(ALICE),
        role: "admin",
        scope: "acme",
        expiresAt: Date.now() + 2000,
      }),
    );
    expect(rw(extend.cost)).toEqual({ read: 2, written: 1, queries: 1 }); // a replace counts as a read of the row too
    const revoke = await measureAs(t, (ctx) =>
      access.revoke(ctx, { actor: userRef(ALICE), role: "admin", scope: "acme" }),
    );
    expect(rw(revoke.cost)).toEqual({ read: 2, written: 1, queries: 1 });
  });

  test("row rules add no read: a wrapped get then patch costs what the raw pair costs", async () => {
    const access = new Access(components.guard, { roles: ROLES, rules });
    const body = async (ctx: any, id: string) => {
      const before = await readMetrics(ctx);
      await ctx.db.get("posts", id);
      await ctx.db.patch("posts", id, { title: "t2" });
      return rw(diffMetrics(await readMetrics(ctx), before));
    };
    const wrapped = access.mutation(mutationGeneric)({
      args: { id: v.id("posts") },
      handler: async (ctx, { id }) => body(ctx, id),
    });
    const raw = mutationGeneric({
      args: { id: v.id("posts") },
      handler: async (ctx, { id }) => body(ctx, id),
    });
    const patchOnly = access.mutation(mutationGeneric)({
      args: { id: v.id("posts") },
      handler: async (ctx, { id }) => {
        const before = await readMetrics(ctx);
        await ctx.db.patch("posts", id, { title: "t3" });
        return rw(diffMetrics(await readMetrics(ctx), before));
      },
    });
    const t = convexTest(schema, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/posts.ts": async () => ({ wrapped, raw, patchOnly }),
    });
    register(t);
    const id = await t.run((ctx) =>
      ctx.db.insert("posts", { owner: userRef(ALICE).id, org: "o", title: "t" }),
    );
    const alice = t.withIdentity(ALICE);
    const rawCost = await alice.mutation(api("raw"), { id });
    expect(await alice.mutation(api("wrapped"), { id })).toEqual(rawCost);
    expect(rawCost).toEqual({ read: 2, written: 1, queries: 1 });
    // A patch without a get first reads the row once, as the raw get-then-patch does.
    expect(await alice.mutation(api("patchOnly"), { id })).toEqual(rawCost);
  });

  test("a profile: looked up once per call (one indexed read), seen by roleOf and the row rules", async () => {
    // The app's own accounts: posts name their owner by handle, which only the profile knows.
    const profileSchema = defineSchema({
      ...schema.tables,
      accounts: defineTable({
        token: v.string(),
        handle: v.string(),
        role: v.union(v.literal("member"), v.literal("admin")),
      }).index("by_token", ["token"]),
    });
    type DataModel = DataModelFromSchemaDefinition<typeof profileSchema>;
    type Account = DataModel["accounts"]["document"];
    let lookups = 0;
    const access = new Access(components.guard, {
      roles: ROLES,
      profile: async (ctx, actor) => {
        lookups++;
        return ctx.db
          .query("accounts")
          .withIndex("by_token", (q) => q.eq("token", actor.id))
          .unique();
      },
      roleOf: (_ctx, actor) => actor.profile?.role ?? null,
      rules: defineRules<DataModel, Account>({
        posts: {
          read: (actor, post) => post.owner === actor.profile?.handle,
          write: (actor, old) => old.owner === actor.profile?.handle,
        },
      }),
    });
    const ownAndForeign = access.mutation(mutationGeneric, { permission: "posts.read" })({
      args: { mine: v.id("posts"), theirs: v.id("posts") },
      handler: async (ctx, { mine, theirs }) => ({
        handle: ctx.actor.profile?.handle ?? null,
        mine: (await ctx.db.get("posts", mine))?.title ?? null,
        theirs: (await ctx.db.get("posts", theirs))?.title ?? null,
        admin: await access.can(ctx, "org.manage"),
      }),
    });
    const t = convexTest(profileSchema, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/posts.ts": async () => ({ ownAndForeign }),
    });
    register(t);
    const { mine, theirs } = await t.run(async (ctx) => {
      await ctx.db.insert("accounts", { token: userRef(ALICE).id, handle: "al", role: "admin" });
      await ctx.db.insert("accounts", { token: userRef(BOB).id, handle: "bo", role: "member" });
      return {
        mine: await ctx.db.insert("posts", { owner: "al", org: "o", title: "alice's" }),
        theirs: await ctx.db.insert("posts", { owner: "bo", org: "o", title: "bob's" }),
      };
    });
    // A wrapped call: the permission check (roleOf), ctx.actor, two rule checks and a
    // second permission check share one lookup.
    expect(await t.withIdentity(ALICE).mutation(api("ownAndForeign"), { mine, theirs })).toEqual({
      handle: "al",
      mine: "alice's",
      theirs: null,
      admin: true,
    });
    expect(lookups).toBe(1);
    // Unwrapped calls in one function: the profile costs one indexed read, once.
    lookups = 0;
    const r = await measureAs(t, async (ctx) => [
      await access.can(ctx, "org.manage"),
      await access.can(ctx, "posts.read"),
      (await access.get(ctx, "posts", mine))?.title ?? null,
      (await access.get(ctx, "posts", theirs))?.title ?? null,
    ]);
    expect(r.result).toEqual([true, true, "alice's", null]);
    expect(lookups).toBe(1);
    expect(rw(r.cost)).toEqual({ read: 3, written: 0, queries: 3 }); // the account (one index range), then the two posts
    // Without a profile option nothing is looked up: the same checks read only the posts.
    const plain = new Access(components.guard, { roles: ROLES, roleOf: () => "member", rules });
    const p = await measureAs(t, async (ctx) => [
      await plain.can(ctx, "posts.read"),
      (await plain.get(ctx, "posts", mine))?.title ?? null,
    ]);
    expect(p.result).toEqual([true, null]);
    expect(rw(p.cost)).toEqual({ read: 1, written: 0, queries: 1 });
  });

  test("an action has no ctx.db: the profile is not looked up there", async () => {
    let lookups = 0;
    const access = new Access(components.guard, {
      roles: ROLES,
      profile: async () => {
        lookups++;
        return { handle: "al" };
      },
    });
    const whoAmI = access.action(actionGeneric)({
      args: {},
      handler: async (ctx) => ({ id: ctx.actor.id, hasProfile: "profile" in ctx.actor }),
    });
    const t = convexTest(schema, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/posts.ts": async () => ({ whoAmI }),
    });
    register(t);
    expect(await t.withIdentity(ALICE).action(api("whoAmI"), {})).toEqual({
      id: userRef(ALICE).id,
      hasProfile: false,
    });
    expect(lookups).toBe(0);
  });
});
