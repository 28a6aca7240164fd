import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import { mutationGeneric } from "convex/server";
import { v } from "convex/values";
import { Access } from "../../src/client/access.js";
import type { GenericId as Id } from "convex/values";
import { ErrorCode } from "../../src/component/lib/errors.js";
import { register } from "../../src/test.js";
import { components } from "../setup.js";
import {
  ALICE,
  answer,
  api,
  audit,
  BOB,
  hostTest,
  tokenOf,
  ROLES,
  schema,
  useClock,
} from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

/** Alice's post, and an id of the same table whose row is gone. */
async function alicePostAndMissing(t: ReturnType<typeof hostTest>["t"]) {
  const alice = t.withIdentity(ALICE);
  const post = await alice.mutation(api("createPost"), { title: "mine", org: "acme" });
  const gone = await alice.mutation(api("createPost"), { title: "gone", org: "acme" });
  await alice.mutation(api("deletePost"), { id: gone });
  return { post, gone };
}

describe("reads: a foreign row is answered exactly as a missing one", () => {
  test("through a wrapped query (get by id and by table), access.get and access.require", async () => {
    const { t, access } = hostTest();
    const { post, gone } = await alicePostAndMissing(t);
    const bob = t.withIdentity(BOB);
    for (const fn of [api("getPost"), api("getPostByTable")]) {
      expect(await answer(bob.query(fn, { id: post }))).toEqual(
        await answer(bob.query(fn, { id: gone })),
      );
      expect(await answer(bob.query(fn, { id: post }))).toEqual({ value: null });
      expect(await answer(bob.query(fn, { id: "not an id" }))).toEqual({ value: null });
      expect(await answer(t.withIdentity(ALICE).query(fn, { id: post }))).toMatchObject({
        value: { title: "mine" },
      });
    }
    const viaGet = (id: string) => bob.query((ctx) => access.get(ctx, "posts", id));
    expect(await answer(viaGet(post))).toEqual(await answer(viaGet(gone)));
    expect(await answer(viaGet(post))).toEqual({ value: null });
    const viaRequire = (id: string) => bob.query((ctx) => access.require(ctx, "posts", id));
    expect(await answer(viaRequire(post))).toEqual(await answer(viaRequire(gone)));
    expect(await answer(viaRequire(post))).toEqual({
      error: ErrorCode.NOT_FOUND,
      message: "posts not found",
    });
    expect(
      await answer(t.withIdentity(ALICE).query((ctx) => access.require(ctx, "posts", post))),
    ).toMatchObject({
      value: { title: "mine" },
    });
    // Without an identity there is no actor, and so no row.
    expect(await answer(t.query((ctx) => access.get(ctx, "posts", post)))).toEqual({ value: null });
  });

  test("a list selects by index; a row failing its rule inside ctx.db.query is an error, never dropped", async () => {
    const { t } = hostTest();
    await alicePostAndMissing(t);
    const bob = t.withIdentity(BOB);
    await bob.mutation(api("createPost"), { title: "bob's", org: "acme" });
    expect((await bob.query(api("myPosts"), {})).map((p: { title: string }) => p.title)).toEqual([
      "bob's",
    ]);
    expect(await answer(bob.query(api("allPosts"), {}))).toMatchObject({
      error: ErrorCode.FORBIDDEN,
    });
  });

  test("a table without a rule is denied unless public", async () => {
    const { t } = hostTest();
    const alice = t.withIdentity(ALICE);
    expect(await alice.mutation(api("writeNote"), {})).toEqual({ ok: false, reason: "forbidden" });
    expect(await answer(alice.query(api("readNotes"), {}))).toMatchObject({
      error: ErrorCode.FORBIDDEN,
    });
    expect(typeof (await alice.mutation(api("addTag"), { name: "news" }))).toBe("string");
  });
});

describe("writes: checked on the stored row and on the proposed one", () => {
  test("a patch that changes the owner is denied, though the naive write rule passes the stored row", async () => {
    const { t } = hostTest();
    const { post } = await alicePostAndMissing(t);
    const alice = t.withIdentity(ALICE);
    expect(await alice.mutation(api("givePost"), { id: post, to: tokenOf(BOB) })).toEqual({
      ok: false,
      reason: "forbidden",
    });
    const stored = await t.run((ctx) => ctx.db.get("posts", post as Id<"posts">));
    expect(stored?.owner).toBe(tokenOf(ALICE));
    expect(await alice.mutation(api("renamePost"), { id: post, title: "renamed" })).toBe("renamed");
  });

  test("editing the object a get returned does not change what the write rule sees", async () => {
    const { t } = hostTest();
    const { post } = await alicePostAndMissing(t);
    // Bob cannot see the post at all; Alice cannot hand it to Bob by editing her copy first.
    expect(
      await t.withIdentity(BOB).mutation(api("sneakyGive"), { id: post, to: tokenOf(BOB) }),
    ).toBe("missing");
    expect(
      await t.withIdentity(ALICE).mutation(api("sneakyGive"), { id: post, to: tokenOf(BOB) }),
    ).toEqual({ ok: false, reason: "forbidden" });
    expect((await t.run((ctx) => ctx.db.get("posts", post as Id<"posts">)))?.owner).toBe(
      tokenOf(ALICE),
    );
  });

  test("a foreign and a missing row get the same denial on patch and delete; nothing changes", async () => {
    const { t } = hostTest();
    const { post, gone } = await alicePostAndMissing(t);
    const bob = t.withIdentity(BOB);
    for (const [fn, extra] of [
      [api("renamePost"), { title: "x" }],
      [api("deletePost"), {}],
    ] as const) {
      const foreign = await bob.mutation(fn, { id: post, ...extra });
      expect(foreign).toEqual(await bob.mutation(fn, { id: gone, ...extra }));
      expect(foreign).toEqual({ ok: false, reason: "forbidden" });
    }
    expect((await t.run((ctx) => ctx.db.get("posts", post as Id<"posts">)))?.title).toBe("mine");
  });

  test("an insert is checked by the insert rule", async () => {
    const { t } = hostTest();
    expect(
      await t.withIdentity(ALICE).mutation(api("insertForOther"), { owner: tokenOf(BOB) }),
    ).toEqual({
      ok: false,
      reason: "forbidden",
    });
    expect(await t.run((ctx) => ctx.db.query("posts").collect())).toEqual([]);
  });

  test("a refusal after the handler already wrote throws and rolls the whole call back", async () => {
    const { t } = hostTest();
    const { post } = await alicePostAndMissing(t);
    expect(
      await answer(t.withIdentity(BOB).mutation(api("tagThenSteal"), { id: post })),
    ).toMatchObject({
      error: ErrorCode.FORBIDDEN,
    });
    expect(await t.run((ctx) => ctx.db.query("tags").collect())).toEqual([]);
  });

  test("a rule that throws is INVALID_CONFIG and changes nothing", async () => {
    const access = new Access(components.guard, {
      roles: ROLES,
      audit,
      rules: {
        posts: {
          read: () => true,
          insert: () => {
            throw new Error("boom");
          },
        },
      },
    });
    const create = access.mutation(mutationGeneric)({
      args: { title: v.string() },
      handler: async (ctx, { title }) =>
        ctx.db.insert("posts", { owner: ctx.actor.id, org: "o", title }),
    });
    const t = convexTest(schema, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/posts.ts": async () => ({ create }),
    });
    register(t);
    const r = await answer(t.withIdentity(ALICE).mutation(api("create"), { title: "x" }));
    expect(r).toMatchObject({ error: ErrorCode.INVALID_CONFIG });
    expect(await t.run((ctx) => ctx.db.query("posts").collect())).toEqual([]);
  });
});
