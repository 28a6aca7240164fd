/// <reference types="vite/client" />
/**
 * The app's access-control patterns, tested from the outside: who may call
 * what, whose data a caller may see, and what is reachable at all.
 */
import { makeFunctionReference } from "convex/server";
import { describe, expect, test } from "vitest";
import { addUser, identityOf, modules, newApp, type App } from "../harness.js";
import { api, internal } from "./_generated/api.js";
import type { Id } from "./_generated/dataModel.js";

type Registered = {
  isPublic?: boolean;
  isInternal?: boolean;
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
};

/** Every function the app registers, as "module:name" → its registration. */
async function registeredFunctions(): Promise<Map<string, Registered>> {
  const out = new Map<string, Registered>();
  for (const [path, load] of Object.entries(modules)) {
    const moduleName = /^\.\/convex\/(.+)\.ts$/.exec(path)?.[1];
    if (
      moduleName === undefined ||
      moduleName.startsWith("_generated/") ||
      moduleName === "schema" ||
      moduleName === "convex.config"
    )
      continue;
    for (const [name, value] of Object.entries((await load()) as Record<string, unknown>)) {
      const f = value as Registered;
      if (f && (f.isPublic || f.isInternal) && (f.isQuery || f.isMutation || f.isAction))
        out.set(`${moduleName}:${name}`, f);
    }
  }
  return out;
}

function codeOf(e: unknown): string | undefined {
  return (e as { data?: { code?: string } }).data?.code;
}

async function rejection(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return codeOf(e) ?? String(e);
  }
  return "resolved";
}

async function call(t: App, path: string, f: Registered, args: Record<string, unknown> = {}) {
  if (f.isQuery) return t.query(makeFunctionReference<"query">(path), args);
  if (f.isMutation) return t.mutation(makeFunctionReference<"mutation">(path), args);
  return t.action(makeFunctionReference<"action">(path), args);
}

/** Valid arguments for each public function, so the call reaches the auth check rather than the validator. */
async function sampleArgs(t: App): Promise<Record<string, Record<string, unknown>>> {
  const { userId, messageId, noteId } = await t.run(async (ctx) => {
    const userId = await ctx.db.insert("users", {
      tokenIdentifier: "x|victim",
      name: "victim",
      role: "user",
    });
    const messageId = await ctx.db.insert("messages", { author: userId, body: "private" });
    const noteId = await ctx.db.insert("teamNotes", {
      owner: "x|victim",
      team: "acme",
      body: "private",
    });
    return { userId, messageId, noteId };
  });
  const page = { paginationOpts: { numItems: 10, cursor: null } };
  return {
    "users:signUp": { name: "mallory" },
    "users:me": {},
    "users:updateMyName": { name: "mallory" },
    "users:setMyPassword": { password: "correct horse battery" },
    "users:setRole": { userId, role: "superadmin" },
    "messages:sendMessage": { body: "hi" },
    "messages:listMyMessages": page,
    "messages:getMessage": { messageId },
    "messages:editMessage": { messageId, body: "pwned" },
    "messages:deleteMessage": { messageId },
    "moderation:removeMessage": { messageId, reason: "spam" },
    "admin:requestUserDeletion": { userId },
    "admin:confirmUserDeletion": { userId, code: "12345678" },
    "auditDashboard:list": page,
    "auditDashboard:verify": {},
    "auditDashboard:head": {},
    "adminLimits:messageStats": {},
    "adminLimits:blockSender": { sender: userId, minutes: 60, reason: "spam" },
    "adminLimits:unblockSender": { sender: userId },
    "adminLimits:blockedSenders": page,
    "apiKeys:createKey": { name: "mallory's key", scopes: ["login:verify"] },
    "apiKeys:listKeys": page,
    "apiKeys:rotateKey": { keyId: "0000000000000000" },
    "apiKeys:revokeKey": { keyId: "0000000000000000" },
    "teams:addNote": { team: "acme", body: "hi" },
    "teams:getNote": { noteId },
    "teams:myNotes": { team: "acme" },
    "teams:grantTeamRole": { team: "acme", userId, role: "teamAdmin" },
    // Authenticated by API key, not by user: no key is refused the same way.
    "service:removeMessage": { apiKey: "", messageId, reason: "spam" },
  };
}

describe("the public surface", () => {
  test("is exactly the reviewed list: adding a public function means adding it here (and to the anonymous-caller test)", async () => {
    const t = newApp();
    const samples = await sampleArgs(t);
    const fns = await registeredFunctions();
    const publicNames = [...fns]
      .filter(([, f]) => f.isPublic)
      .map(([n]) => n)
      .sort();
    expect(publicNames).toEqual(Object.keys(samples).sort());
  });

  test("service-only work is internal", async () => {
    const fns = await registeredFunctions();
    const internalNames = [...fns]
      .filter(([, f]) => f.isInternal)
      .map(([n]) => n)
      .sort();
    expect(internalNames).toEqual([
      "admin:issueDeletionCode",
      "auditAnchors:currentHead",
      "auditAnchors:latestPublished",
      "auditAnchors:publishHead",
      "auditAnchors:recordHead",
      "auditAnchors:sealAndReadHead",
      "auditAnchors:verifyAgainstPublished",
      "login:verifyPassword",
      "teams:bootstrapTeamAdmin",
      "users:grantRole",
      "users:purgeUserData",
    ]);
  });

  test("every public function rejects an anonymous caller, before touching anything", async () => {
    const t = newApp();
    const samples = await sampleArgs(t);
    const fns = await registeredFunctions();
    const before = await t.run(async (ctx) => ({
      users: (await ctx.db.query("users").collect()).length,
      messages: await ctx.db.query("messages").collect(),
    }));
    for (const [name, f] of fns) {
      if (!f.isPublic) continue;
      if (name.startsWith("service:")) {
        // Returned, not thrown, so the refusal's count and audit event persist.
        expect([name, await call(t, name, f, samples[name])]).toEqual([
          name,
          { ok: false, reason: "malformed" },
        ]);
        continue;
      }
      if (
        (name.startsWith("teams:") && f.isMutation) ||
        name === "messages:editMessage" ||
        name === "messages:deleteMessage"
      ) {
        // Mutations whose refusals are audited return the denial, so its audit event commits.
        expect([name, await call(t, name, f, samples[name])]).toEqual([
          name,
          { ok: false, reason: "unauthenticated" },
        ]);
        continue;
      }
      expect([name, await rejection(call(t, name, f, samples[name]))]).toEqual([
        name,
        "UNAUTHENTICATED",
      ]);
    }
    const after = await t.run(async (ctx) => ({
      users: (await ctx.db.query("users").collect()).length,
      messages: await ctx.db.query("messages").collect(),
    }));
    expect(after).toEqual(before);
  });

  test("a signed-in identity without an account can only sign up", async () => {
    const t = newApp();
    const samples = await sampleArgs(t);
    const fns = await registeredFunctions();
    const stranger = t.withIdentity(identityOf("stranger"));
    for (const [name, f] of fns) {
      if (!f.isPublic || name === "users:signUp" || name === "admin:requestUserDeletion") continue;
      if (name.startsWith("teams:")) {
        // Team notes need no account, only an identity, and then a role in the team.
        const answer = f.isMutation
          ? await call(stranger as App, name, f, samples[name])
          : await rejection(call(stranger as App, name, f, samples[name]));
        expect([name, answer]).toEqual([
          name,
          f.isMutation
            ? { ok: false, reason: "forbidden" }
            : name === "teams:getNote"
              ? "NOT_FOUND"
              : "FORBIDDEN",
        ]);
        continue;
      }
      if (name.startsWith("service:")) {
        // A user identity is no API key.
        expect(await call(stranger as App, name, f, samples[name])).toEqual({
          ok: false,
          reason: "malformed",
        });
        continue;
      }
      expect([name, await rejection(call(stranger as App, name, f, samples[name]))]).toEqual([
        name,
        "UNAUTHENTICATED",
      ]);
    }
    // The action authenticates the identity; its internal mutation finds no account.
    expect(
      await rejection(
        stranger.action(
          api.admin.requestUserDeletion,
          samples["admin:requestUserDeletion"] as never,
        ),
      ),
    ).toBe("UNAUTHENTICATED");
  });

  test("no public path leads to the component's functions", async () => {
    const t = newApp();
    const fns = await registeredFunctions();
    // No app function shares a name with a component module, and the guard's
    // functions cannot be addressed through the app's API.
    for (const name of fns.keys())
      expect(name.split(":")[0]).not.toMatch(/^(maintenance|rateLimits|audit|codes)$/);
    expect(
      await rejection(t.mutation(makeFunctionReference<"mutation">("maintenance:runNow"), {})),
    ).not.toBe("resolved");
    expect(
      await rejection(
        t.mutation(makeFunctionReference<"mutation">("guard/maintenance:runNow"), {}),
      ),
    ).not.toBe("resolved");
    // Only lib/guard.ts touches `components`; every other module reaches the
    // component through the typed clients built there.
    const sources = import.meta.glob(["./**/*.ts", "!./**/*.test.ts", "!./_generated/**"], {
      query: "?raw",
      import: "default",
      eager: true,
    }) as Record<string, string>;
    const touching = Object.entries(sources)
      .filter(([, src]) => /\bcomponents\b/.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "")))
      .map(([path]) => path);
    expect(touching).toEqual(["./lib/guard.ts"]);
  });
});

describe("IDOR: a caller reaches only their own rows, whatever ids they send", () => {
  async function twoUsersAndAMessage() {
    const t = newApp();
    const alice = await addUser(t, "alice");
    const bob = await addUser(t, "bob");
    const messageId: Id<"messages"> = await t.run((ctx) =>
      ctx.db.insert("messages", { author: alice.id, body: "alice's secret" }),
    );
    return { t, alice, bob, messageId };
  }

  test("bob cannot read alice's message by id: it looks exactly like a missing one", async () => {
    const { alice, bob, messageId } = await twoUsersAndAMessage();
    expect(await alice.as.query(api.messages.getMessage, { messageId })).toMatchObject({
      body: "alice's secret",
    });
    expect(await rejection(bob.as.query(api.messages.getMessage, { messageId }))).toBe("NOT_FOUND");
  });

  test("bob cannot edit or delete alice's message: refused like a missing one, returned and audited", async () => {
    const { t, bob, messageId } = await twoUsersAndAMessage();
    const refused = { ok: false, reason: "forbidden" };
    expect(await bob.as.mutation(api.messages.editMessage, { messageId, body: "pwned" })).toEqual(
      refused,
    );
    expect(await bob.as.mutation(api.messages.deleteMessage, { messageId })).toEqual(refused);
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toMatchObject({
      body: "alice's secret",
    });
    // A message that no longer exists gets the same answer: the refusal tells bob nothing.
    const gone: Id<"messages"> = await t.run(async (ctx) => {
      const id = await ctx.db.insert("messages", { author: bob.id, body: "gone" });
      await ctx.db.delete("messages", id);
      return id;
    });
    expect(await bob.as.mutation(api.messages.deleteMessage, { messageId: gone })).toEqual(refused);
    // Each refusal is a guard.access.deny event naming bob and the table, on the audit page.
    const admin = await addUser(t, "ada", "admin");
    const page = await admin.as.query(api.auditDashboard.list, {
      action: "guard.access.deny",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page.map((e) => [e.actor.name, e.outcome, e.reason, e.targets])).toEqual(
      Array(3).fill(["bob", "denied", "forbidden", [{ type: "table", id: "messages" }]]),
    );
  });

  test("a moderator removes anyone's message through the same row rules", async () => {
    const { t, messageId } = await twoUsersAndAMessage();
    const mod = await addUser(t, "mo", "moderator");
    expect(
      await mod.as.mutation(api.moderation.removeMessage, { messageId, reason: "spam" }),
    ).toBeNull();
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toBeNull();
  });

  test("listMyMessages returns only the caller's rows", async () => {
    const { t, alice, bob } = await twoUsersAndAMessage();
    await t.run((ctx) => ctx.db.insert("messages", { author: bob.id, body: "bob's note" }));
    const page = { paginationOpts: { numItems: 50, cursor: null } };
    const mine = await bob.as.query(api.messages.listMyMessages, page);
    expect(mine.page.map((m) => m.body)).toEqual(["bob's note"]);
    expect(
      (await alice.as.query(api.messages.listMyMessages, page)).page.map((m) => m.body),
    ).toEqual(["alice's secret"]);
  });

  test("profile changes apply to the caller only (no function takes a userId for that)", async () => {
    const { t, alice, bob } = await twoUsersAndAMessage();
    await bob.as.mutation(api.users.updateMyName, { name: "Robert" });
    expect(await t.run((ctx) => ctx.db.get("users", alice.id))).toMatchObject({ name: "alice" });
    expect(await bob.as.query(api.users.me, {})).toMatchObject({
      _id: bob.id,
      name: "Robert",
      role: "user",
    });
  });

  test("a user cannot promote themselves or anyone else", async () => {
    const { t, alice, bob } = await twoUsersAndAMessage();
    expect(
      await rejection(bob.as.mutation(api.users.setRole, { userId: bob.id, role: "superadmin" })),
    ).toBe("FORBIDDEN");
    expect(
      await rejection(bob.as.mutation(api.users.setRole, { userId: alice.id, role: "admin" })),
    ).toBe("FORBIDDEN");
    expect(
      await t.run(async (ctx) => [
        (await ctx.db.get("users", alice.id))?.role,
        (await ctx.db.get("users", bob.id))?.role,
      ]),
    ).toEqual(["user", "user"]);
  });
});

describe("emails: accounts are found by email, so an email names one account its owner proved", () => {
  test("an unverified email claim links to no account: it cannot be granted a role or used for password login", async () => {
    const t = newApp();
    // Mallory's provider lets her claim root's address without proving it, and she signs up first.
    const mallory = t.withIdentity({
      ...identityOf("mallory"),
      email: "root@example.com",
      emailVerified: false,
    });
    const malloryId = await mallory.mutation(api.users.signUp, { name: "mallory" });
    expect(
      await rejection(
        mallory.mutation(api.users.setMyPassword, { password: "mallory's long password" }),
      ),
    ).toBe("INVALID_ARGUMENT");
    const root = await addUser(t, "root", "superadmin");
    expect(
      await t.run(async (ctx) => [
        (await ctx.db.get(malloryId))?.role,
        (await ctx.db.get("users", root.id))?.role,
      ]),
    ).toEqual(["user", "superadmin"]);
  });

  test("a second identity with an already linked email does not get it", async () => {
    const t = newApp();
    const root = await addUser(t, "root");
    // Another issuer vouches for the same address: the first account keeps it.
    const other = t.withIdentity({
      ...identityOf("root"),
      issuer: "https://other.example.com",
      tokenIdentifier: "https://other.example.com|root",
    });
    const otherId = await other.mutation(api.users.signUp, { name: "root too" });
    expect(await other.query(api.users.me, {})).toEqual({
      _id: otherId,
      name: "root too",
      email: undefined,
      role: "user",
    });
    expect(await t.mutation(internal.users.grantRole, { email: root.email, role: "admin" })).toBe(
      root.id,
    );
  });
});

describe("roles: user < moderator < admin < superadmin", () => {
  test("only moderators and above remove other people's messages", async () => {
    const t = newApp();
    const alice = await addUser(t, "alice");
    const bob = await addUser(t, "bob");
    const mod = await addUser(t, "mod", "moderator");
    const messageId = await t.run((ctx) =>
      ctx.db.insert("messages", { author: alice.id, body: "spam" }),
    );
    expect(
      await rejection(bob.as.mutation(api.moderation.removeMessage, { messageId, reason: "spam" })),
    ).toBe("FORBIDDEN");
    await mod.as.mutation(api.moderation.removeMessage, { messageId, reason: "spam" });
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).toBeNull();
  });

  test("a removal reason too large for the audit log is refused up front, and nothing is removed", async () => {
    const t = newApp();
    const alice = await addUser(t, "alice");
    const mod = await addUser(t, "mod", "moderator");
    const messageId = await t.run((ctx) =>
      ctx.db.insert("messages", { author: alice.id, body: "spam" }),
    );
    // 400 characters, 1,200 bytes of UTF-8: within the character limit, over the log's 1 KB per string.
    const reason = "垃圾".repeat(200);
    expect(
      await rejection(mod.as.mutation(api.moderation.removeMessage, { messageId, reason })),
    ).toBe("INVALID_ARGUMENT");
    expect(await t.run((ctx) => ctx.db.get("messages", messageId))).not.toBeNull();
  });

  test("only admins read the audit log; only superadmins start or confirm a deletion", async () => {
    const t = newApp();
    const user = await addUser(t, "user");
    const mod = await addUser(t, "mod", "moderator");
    const admin = await addUser(t, "admin", "admin");
    const page = { paginationOpts: { numItems: 10, cursor: null } };
    for (const caller of [user, mod]) {
      expect(await rejection(caller.as.query(api.auditDashboard.list, page))).toBe("FORBIDDEN");
      expect(await rejection(caller.as.query(api.auditDashboard.verify, {}))).toBe("FORBIDDEN");
    }
    for (const caller of [user, mod, admin]) {
      expect(
        await rejection(caller.as.action(api.admin.requestUserDeletion, { userId: user.id })),
      ).toBe("FORBIDDEN");
      expect(
        await rejection(
          caller.as.mutation(api.admin.confirmUserDeletion, { userId: user.id, code: "00000000" }),
        ),
      ).toBe("FORBIDDEN");
    }
    expect(await t.run((ctx) => ctx.db.get("users", user.id))).not.toBeNull();
  });
});
