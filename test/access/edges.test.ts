import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import { mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { Access } from "../../src/client/access.js";
import { register } from "../../src/test.js";
import { ErrorCode } from "../../src/component/lib/errors.js";
import { components, runInGuard } from "../setup.js";
import { MAX_ROLES } from "../../src/component/access/model.js";
import {
  advance,
  ALICE,
  answer,
  api,
  audit,
  BOB,
  hostTest,
  tokenOf,
  ROLES,
  rules,
  schema,
  useClock,
  userRef,
} from "./host.js";

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

describe("Access instances", () => {
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

describe("ctx.db.system in a wrapped function", () => {
  test("serves only system tables: a user row by id is missing, a user table query is FORBIDDEN", async () => {
    const access = new Access(components.guard, { roles: ROLES, rules });
    const create = access.mutation(mutationGeneric)({
      args: { title: v.string() },
      handler: async (ctx, { title }) =>
        ctx.db.insert("posts", { owner: ctx.actor.id, org: "o", title }),
    });
    const systemGet = access.query(queryGeneric)({
      args: { id: v.string() },
      handler: async (ctx, { id }) => ctx.db.system.get(id as never),
    });
    const systemQuery = access.query(queryGeneric)({
      args: {},
      handler: async (ctx) => ctx.db.system.query("posts" as never).collect(),
    });
    const storage = access.query(queryGeneric)({
      args: {},
      handler: async (ctx) => ctx.db.system.query("_storage").collect(),
    });
    const t = appOf({ create, systemGet, systemQuery, storage });
    const post = await t.withIdentity(ALICE).mutation(api("create"), { title: "alice's" });
    const bob = t.withIdentity(BOB);
    expect(await answer(bob.query(api("systemGet"), { id: post }))).toEqual({ value: null });
    expect(await answer(bob.query(api("systemQuery"), {}))).toMatchObject({
      error: ErrorCode.FORBIDDEN,
    });
    expect(await answer(bob.query(api("storage"), {}))).toEqual({ value: [] });
  });
});

describe("writes check and store one copy of the value", () => {
  test("a handler that edits the value after calling insert cannot store a row the rule never saw", async () => {
    const access = new Access(components.guard, { roles: ROLES, rules });
    const swap = access.mutation(mutationGeneric)({
      args: { to: v.string() },
      handler: async (ctx, { to }) => {
        const value = { owner: ctx.actor.id, org: "o", title: "x" };
        const pending = ctx.db.insert("posts", value);
        value.owner = to;
        return pending;
      },
    });
    const t = appOf({ swap });
    await t.withIdentity(ALICE).mutation(api("swap"), { to: tokenOf(BOB) });
    const rows = await t.run((ctx) => ctx.db.query("posts").collect());
    expect(rows.map((r) => r.owner)).toEqual([tokenOf(ALICE)]);
  });
});

describe("a row denial after another effect rolls the call back", () => {
  function effectsApp() {
    const access = new Access(components.guard, { roles: ROLES, rules });
    const authed = access.mutation(mutationGeneric);
    const fns = {
      create: authed({
        args: { title: v.string() },
        handler: async (ctx, { title }) =>
          ctx.db.insert("posts", { owner: ctx.actor.id, org: "o", title }),
      }),
      noop: mutationGeneric({ args: {}, handler: async () => null }),
      tag: mutationGeneric({
        args: {},
        handler: async (ctx) => ctx.db.insert("tags", { name: "nested" }),
      }),
      scheduleThenSteal: authed({
        args: { id: v.id("posts") },
        handler: async (ctx, { id }) => {
          await ctx.scheduler.runAfter(60_000, api("noop"), {});
          await ctx.db.patch("posts", id, { title: "stolen" });
        },
      }),
      runMutationThenSteal: authed({
        args: { id: v.id("posts") },
        handler: async (ctx, { id }) => {
          await ctx.runMutation(api("tag"), {});
          await ctx.db.patch("posts", id, { title: "stolen" });
        },
      }),
    };
    return appOf(fns);
  }

  test("a job scheduled before a row denial is not committed: the denial throws", async () => {
    const t = effectsApp();
    const post = await t.withIdentity(ALICE).mutation(api("create"), { title: "alice's" });
    expect(
      await answer(t.withIdentity(BOB).mutation(api("scheduleThenSteal"), { id: post })),
    ).toMatchObject({ error: ErrorCode.FORBIDDEN });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs).toEqual([]);
  });

  test("a mutation run before a row denial is not committed: the denial throws", async () => {
    const t = effectsApp();
    const post = await t.withIdentity(ALICE).mutation(api("create"), { title: "alice's" });
    expect(
      await answer(t.withIdentity(BOB).mutation(api("runMutationThenSteal"), { id: post })),
    ).toMatchObject({ error: ErrorCode.FORBIDDEN });
    expect(await t.run((ctx) => ctx.db.query("tags").collect())).toEqual([]);
  });
});

describe("grants per (actor, scope) are capped at MAX_ROLES", () => {
  const names = (prefix: string) => Array.from({ length: MAX_ROLES }, (_, i) => `${prefix}${i}`);
  const grantTo = (
    t: ReturnType<typeof appOf>,
    role: string,
    declared: string[],
    expiresAt?: number,
  ) =>
    t.mutation((ctx) =>
      ctx.runMutation(components.guard.access.grant, {
        actor: userRef(ALICE),
        scope: "acme",
        role,
        declaredRoles: declared,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      }),
    );
  const rolesNow = (t: ReturnType<typeof appOf>) =>
    t.query((ctx) =>
      ctx.runQuery(components.guard.access.rolesOf, { actor: userRef(ALICE), scope: "acme" }),
    );
  const rowCount = (t: ReturnType<typeof appOf>) =>
    t.run(async (ctx) => {
      return (
        await ctx.runQuery(components.guard.access.rolesOf, {
          actor: userRef(ALICE),
          scope: "acme",
        })
      ).length;
    });

  test("a grant after MAX_ROLES expired grants of the same actor and scope is in force", async () => {
    const t = appOf({});
    const old = names("old");
    for (const role of old) await grantTo(t, role, old, Date.now() + 1000);
    advance(2000);
    // Sorts after every old role in the index, so a read of MAX_ROLES rows would meet only stale ones.
    await grantTo(t, "zz.fresh", ["zz.fresh"]);
    expect((await rolesNow(t)).map((g: { role: string }) => g.role)).toEqual(["zz.fresh"]);
  });

  test("a grant beyond MAX_ROLES live grants of one actor and scope is TOO_LARGE and changes nothing", async () => {
    expect(MAX_ROLES).toBe(64); // the number docs/access-control.md states
    const t = appOf({});
    const live = names("live");
    for (const role of live) await grantTo(t, role, live);
    expect(await answer(grantTo(t, "one.more", ["one.more"]))).toMatchObject({
      error: ErrorCode.TOO_LARGE,
    });
    expect(await rowCount(t)).toBe(MAX_ROLES);
    // Granting a role already held is not a new row.
    expect(await answer(grantTo(t, "live0", live))).toMatchObject({ value: { changed: false } });
  });

  test("more than MAX_ROLES stored rows for one actor and scope are CORRUPT_STATE, not a partial read", async () => {
    const t = appOf({});
    await runInGuard(t, async (ctx) => {
      for (let i = 0; i <= MAX_ROLES; i++)
        await ctx.db.insert("accessGrants", {
          actorType: "user",
          actorId: tokenOf(ALICE),
          scope: "acme",
          role: `r${i}`,
          grantedAt: Date.now(),
        });
    });
    expect(await answer(rolesNow(t))).toMatchObject({ error: ErrorCode.CORRUPT_STATE });
    expect(await answer(grantTo(t, "r0", ["r0"]))).toMatchObject({
      error: ErrorCode.CORRUPT_STATE,
    });
  });
});

describe("unauthenticated denials", () => {
  test("an anonymous caller's denied mutation returns the denial and writes no audit event", async () => {
    const { t } = hostTest();
    for (let i = 0; i < 3; i++)
      expect(await t.mutation(api("manageOrg"), { org: "acme" })).toEqual({
        ok: false,
        reason: "unauthenticated",
      });
    const events = await t.query((ctx) =>
      audit.list(ctx, {
        action: "guard.access.deny",
        paginationOpts: { numItems: 10, cursor: null },
      }),
    );
    expect(events.page).toEqual([]);
  });
});

describe("public tables", () => {
  test("a public table is readable and writable by every signed-in actor, whoever wrote the row", async () => {
    const access = new Access(components.guard, { roles: ROLES, rules, public: ["tags"] });
    const authed = access.mutation(mutationGeneric);
    const fns = {
      add: authed({
        args: { name: v.string() },
        handler: async (ctx, { name }) => ctx.db.insert("tags", { name }),
      }),
      rename: authed({
        args: { id: v.id("tags"), name: v.string() },
        handler: async (ctx, { id, name }) => {
          await ctx.db.patch("tags", id, { name });
          return ctx.db.get("tags", id);
        },
      }),
      remove: authed({
        args: { id: v.id("tags") },
        handler: async (ctx, { id }) => ctx.db.delete("tags", id),
      }),
    };
    const t = appOf(fns);
    const tag = await t.withIdentity(ALICE).mutation(api("add"), { name: "alice's" });
    const bob = t.withIdentity(BOB);
    expect(await bob.mutation(api("rename"), { id: tag, name: "bob's" })).toMatchObject({
      name: "bob's",
    });
    await bob.mutation(api("remove"), { id: tag });
    expect(await t.run((ctx) => ctx.db.query("tags").collect())).toEqual([]);
    expect(await answer(t.mutation(api("add"), { name: "anon" }))).toEqual({
      value: { ok: false, reason: "unauthenticated" },
    });
  });
});
