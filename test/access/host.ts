/**
 * A small host app for the access tests: posts owned by users in orgs, notes
 * without a rule, a public tags table, and functions built with the wrappers.
 */
import { vi } from "vitest";
import { convexTest } from "convex-test";
import {
  actionGeneric,
  makeFunctionReference,
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type FunctionReference,
} from "convex/server";
import { v } from "convex/values";
import { Access, defineRules, type AccessOptions } from "../../src/client/access.js";
import { AuditLog } from "../../src/client/auditLog.js";
import { register } from "../../src/test.js";
import { components } from "../setup.js";

export const T0 = 1_700_000_000_000;
export function useClock(): void {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
}
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

export const schema = defineSchema({
  posts: defineTable({ owner: v.string(), org: v.string(), title: v.string() }).index("by_owner", [
    "owner",
  ]),
  notes: defineTable({ text: v.string() }),
  tags: defineTable({ name: v.string() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;

export const ROLES = {
  member: { permissions: ["posts.read", "posts.write"] },
  admin: { inherits: ["member"], permissions: ["org.manage"] },
  owner: { inherits: ["admin"], permissions: ["org.delete"] },
} as const;

/** Read rule calls, to show an actor over the denial limit is refused before any rule runs. */
export const ruleCalls = { read: 0 };

export const rules = defineRules<DataModel>({
  posts: {
    read: (actor, doc) => {
      ruleCalls.read++;
      return doc.owner === actor.id;
    },
    // The naive rule convex-helpers users write: it looks only at the stored row.
    write: (actor, old) => old.owner === actor.id,
    insert: (actor, doc) => doc.owner === actor.id,
  },
});

export const audit = new AuditLog(components.guard);

export function makeAccess(options: Partial<AccessOptions<typeof ROLES>> = {}) {
  return new Access(components.guard, { roles: ROLES, rules, public: ["tags"], audit, ...options });
}

export const ALICE = { subject: "alice", issuer: "https://auth.test", name: "Alice" };
export const BOB = { subject: "bob", issuer: "https://auth.test" };
export const tokenOf = (who: { subject: string; issuer: string }) => `${who.issuer}|${who.subject}`;
export const userRef = (who: { subject: string; issuer: string }) => ({
  type: "user",
  id: tokenOf(who),
});

/** The host's functions, built by `access` (the default one, or one with other options). */
export function hostFunctions(access: ReturnType<typeof makeAccess>) {
  const authed = access.mutation(mutationGeneric);
  const reader = access.query(queryGeneric);
  return {
    createPost: authed({
      args: { title: v.string(), org: v.string() },
      handler: async (ctx, { title, org }) =>
        ctx.db.insert("posts", { owner: ctx.actor.id, org, title }),
    }),
    getPost: reader({
      args: { id: v.string() },
      handler: async (ctx, { id }) => ctx.db.get(id as never),
    }),
    getPostByTable: reader({
      args: { id: v.string() },
      handler: async (ctx, { id }) => {
        const normalized = ctx.db.normalizeId("posts", id);
        return normalized === null ? null : ctx.db.get("posts", normalized);
      },
    }),
    myPosts: reader({
      args: {},
      handler: async (ctx) =>
        ctx.db
          .query("posts")
          .withIndex("by_owner", (q) => q.eq("owner", ctx.actor.id))
          .collect(),
    }),
    allPosts: reader({
      args: {},
      handler: async (ctx) => ctx.db.query("posts").collect(),
    }),
    renamePost: authed({
      args: { id: v.id("posts"), title: v.string() },
      handler: async (ctx, { id, title }) => {
        await ctx.db.patch("posts", id, { title });
        return "renamed";
      },
    }),
    givePost: authed({
      args: { id: v.id("posts"), to: v.string() },
      handler: async (ctx, { id, to }) => {
        await ctx.db.patch(id, { owner: to });
        return "given";
      },
    }),
    sneakyGive: authed({
      args: { id: v.id("posts"), to: v.string() },
      handler: async (ctx, { id, to }) => {
        // Edits the object it read before writing: the rule must still see the stored row.
        const post = await ctx.db.get("posts", id);
        if (post === null) return "missing";
        post.owner = to;
        await ctx.db.patch("posts", id, { owner: to });
        return "given";
      },
    }),
    deletePost: authed({
      args: { id: v.id("posts") },
      handler: async (ctx, { id }) => {
        await ctx.db.delete("posts", id);
        return "deleted";
      },
    }),
    insertForOther: authed({
      args: { owner: v.string() },
      handler: async (ctx, { owner }) => ctx.db.insert("posts", { owner, org: "o", title: "x" }),
    }),
    tagThenSteal: authed({
      args: { id: v.id("posts") },
      handler: async (ctx, { id }) => {
        await ctx.db.insert("tags", { name: "half-done" });
        await ctx.db.patch("posts", id, { title: "stolen" });
      },
    }),
    grantSelfThenCheck: authed({
      args: {},
      handler: async (ctx) => {
        const before = await access.can(ctx, "org.manage", { scope: "x" });
        await access.grant(ctx, {
          actor: { type: ctx.actor.type, id: ctx.actor.id },
          role: "admin",
          scope: "x",
        });
        return [before, await access.can(ctx, "org.manage", { scope: "x" })];
      },
    }),
    writeNote: authed({
      args: {},
      handler: async (ctx) => ctx.db.insert("notes", { text: "x" }),
    }),
    readNotes: reader({ args: {}, handler: async (ctx) => ctx.db.query("notes").collect() }),
    addTag: authed({
      args: { name: v.string() },
      handler: async (ctx, { name }) => ctx.db.insert("tags", { name }),
    }),
    manageOrg: access.mutation(mutationGeneric, {
      permission: "org.manage",
      scope: (args: { org: string }) => args.org,
    })({
      args: { org: v.string() },
      returns: v.string(),
      handler: async (ctx, { org }) => `managed ${org} as ${ctx.actor.id}`,
    }),
    manageOrgOrThrow: access.mutation(mutationGeneric, {
      permission: "org.manage",
      scope: (args: { org: string }) => args.org,
      onDenied: "throw",
    })({ args: { org: v.string() }, handler: async () => "managed" }),
    readOrg: access.query(queryGeneric, { permission: "posts.read", scope: "acme" })({
      args: {},
      handler: async (ctx) => `read as ${ctx.actor.type}`,
    }),
    orgAction: access.action(actionGeneric, { permission: "org.manage", scope: "acme" })({
      args: {},
      handler: async (ctx) => `action by ${ctx.actor.id}`,
    }),
  };
}

/** A convex-test app with these functions under `host/posts`. */
export function hostTest(access = makeAccess()) {
  const fns = hostFunctions(access);
  const t = convexTest(schema, {
    "./host/_generated/api.ts": async () => ({}),
    "./host/posts.ts": async () => fns,
  });
  register(t);
  return { t, access, fns };
}
/** A reference to the host function `posts:<name>` (any-typed, as `anyApi`'s are). */
export function api(name: string): FunctionReference<any, "public", any, any> {
  return makeFunctionReference<any, any, any>(`posts:${name}`);
}

/** The coded error a call threw, or "no error" (`uncoded: ...` for a throw without a code). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (e) {
    const data = (e as { data?: { code?: string } }).data;
    return data?.code ?? `uncoded: ${String(e)}`;
  }
}

/** What a caller sees of a call: its value, or its error code and message. */
export async function answer(p: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await p };
  } catch (e) {
    const data = (e as { data?: { code?: string; message?: string } }).data;
    return { error: data?.code ?? String(e), message: data?.message };
  }
}
