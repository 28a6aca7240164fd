/**
 * The app's server-to-server surface, authenticated by API keys: the login
 * server's HTTP endpoint, the moderation worker's mutation, and the
 * superadmin functions that create, list, rotate and revoke their keys.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { addUser, newApp, serviceKey, type App } from "../harness.js";
import { api } from "./_generated/api.js";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9, 0, 0));
});
afterEach(() => vi.useRealTimers());

const page = (numItems: number) => ({ paginationOpts: { numItems, cursor: null } });

async function setup() {
  const t = newApp();
  const root = await addUser(t, "root", "superadmin");
  const alice = await addUser(t, "alice");
  await alice.as.mutation(api.users.setMyPassword, { password: "correct horse battery" });
  const login = await serviceKey(root, "login server", ["login:verify"]);
  const call = (body: unknown, key: string | null = login.key) =>
    t.fetch("/service/verify-password", {
      method: "POST",
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const verify = (password: string, key?: string | null) =>
    call({ email: alice.email, password }, key);
  return { t, root, alice, login, call, verify };
}

async function denials(t: App, root: Awaited<ReturnType<typeof addUser>>) {
  const events = await root.as.query(api.auditDashboard.list, {
    action: "guard.apiKey.deny",
    ...page(50),
  });
  return events.page.map((e) => e.reason);
}

describe("POST /service/verify-password with an API key", () => {
  test("a valid key checks the password; the audit event names the key, not a self-declared caller", async () => {
    const { root, alice, login, verify } = await setup();
    const res = await verify("correct horse battery");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, userId: alice.id });
    const events = await root.as.query(api.auditDashboard.list, {
      action: "auth.login",
      ...page(5),
    });
    expect(events.page[0]!.actor).toEqual({
      type: "apiKey",
      id: login.keyId,
      name: "login server",
    });
  });

  test("a missing, wrong, unknown-scope or revoked key is refused before the body is read, and audited", async () => {
    const { t, root, login, verify } = await setup();
    expect((await verify("correct horse battery", null)).status).toBe(401);
    expect((await verify("correct horse battery", "sk_example_not-a-key")).status).toBe(401);
    const wrong = login.key.slice(0, -1) + (login.key.endsWith("A") ? "B" : "A"); // checksum breaks: malformed
    expect((await verify("correct horse battery", wrong)).status).toBe(401);
    const moderator = await serviceKey(root, "moderation worker", ["messages:moderate"]);
    expect((await verify("correct horse battery", moderator.key)).status).toBe(403);
    await root.as.mutation(api.apiKeys.revokeKey, { keyId: login.keyId });
    const revoked = await verify("correct horse battery");
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ error: "unauthorized" });
    expect((await denials(t, root)).sort()).toEqual(["revoked", "scope"]);
  });

  test("each key has its own window (30 calls a minute): the 31st gets 429 with Retry-After", async () => {
    const { root, verify } = await setup();
    for (let i = 0; i < 30; i++) expect((await verify("wrong")).status).toBe(200);
    const res = await verify("wrong");
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const other = await serviceKey(root, "second login server", ["login:verify"]);
    expect((await verify("correct horse battery", other.key)).status).toBe(200);
  });

  test("5 failed logins in 15 minutes lock the account, even for the right password", async () => {
    const { verify } = await setup();
    for (let i = 0; i < 5; i++)
      expect(await (await verify("wrong")).json()).toEqual({ ok: false, reason: "invalid" });
    expect(await (await verify("correct horse battery")).json()).toMatchObject({
      ok: false,
      reason: "locked",
    });
  });

  test("an unknown email gets the same answer as a wrong password", async () => {
    const { call } = await setup();
    expect(await (await call({ email: "nobody@example.com", password: "x" })).json()).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  test("odd bodies get 400, never a crash", async () => {
    const { call } = await setup();
    const bodies: unknown[] = [
      "null",
      "[]",
      '"text"',
      "not json",
      "",
      { email: "", password: "x" },
      { email: "   ", password: "x" },
      { email: "İ".repeat(127), password: "x" }, // 254 bytes raw, 381 once lower-cased
      { email: 42, password: "x" },
      { email: "a@example.com" },
      { email: "a@example.com", password: "" },
      { email: "a@example.com", password: "x".repeat(257) },
      "x".repeat(10_000),
    ];
    for (const body of bodies) {
      const res = await call(body);
      expect([JSON.stringify(body).slice(0, 40), res.status]).toEqual([
        JSON.stringify(body).slice(0, 40),
        400,
      ]);
    }
  });
});

describe("the moderation worker's key", () => {
  test("removes a message with its own key; the audit names the key", async () => {
    const { t, root, alice } = await setup();
    const worker = await serviceKey(root, "spam classifier", ["messages:moderate"]);
    const sent = await alice.as.mutation(api.messages.sendMessage, { body: "buy now" });
    if (!sent.ok) throw new Error("not sent");
    expect(
      await t.mutation(api.service.removeMessage, {
        apiKey: worker.key,
        messageId: sent.messageId,
        reason: "spam",
      }),
    ).toBe(null);
    expect(await t.run((ctx) => ctx.db.get("messages", sent.messageId))).toBeNull();
    const events = await root.as.query(api.auditDashboard.list, {
      action: "message.remove",
      ...page(5),
    });
    expect(events.page[0]!.actor).toMatchObject({
      type: "apiKey",
      id: worker.keyId,
      name: "spam classifier",
    });
  });

  test("a key without the scope, or none at all, gets a denial back and removes nothing", async () => {
    const { t, root, alice, login } = await setup();
    const sent = await alice.as.mutation(api.messages.sendMessage, { body: "hello" });
    if (!sent.ok) throw new Error("not sent");
    const args = { messageId: sent.messageId, reason: "spam" };
    expect(await t.mutation(api.service.removeMessage, { apiKey: login.key, ...args })).toEqual({
      ok: false,
      reason: "scope",
    });
    expect(await t.mutation(api.service.removeMessage, { apiKey: "", ...args })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(await t.run((ctx) => ctx.db.get("messages", sent.messageId))).not.toBeNull();
    expect(await denials(t, root)).toEqual(["scope"]);
  });
});

describe("superadmins manage keys", () => {
  test("create, list, rotate (both valid during the overlap), revoke", async () => {
    const { t, root, verify } = await setup();
    const list = async () => (await root.as.query(api.apiKeys.listKeys, page(10))).page;
    const first = (await list())[0]!;
    expect(first).toMatchObject({
      name: "login server",
      state: "active",
      scopes: ["login:verify"],
    });
    expect(JSON.stringify(await list())).not.toMatch(/sk_example_/);
    const rotated = await root.as.mutation(api.apiKeys.rotateKey, {
      keyId: first.keyId,
      overlap: 60_000,
    });
    expect((await verify("correct horse battery")).status).toBe(200); // old key, during the overlap
    expect((await verify("correct horse battery", rotated.key)).status).toBe(200);
    vi.advanceTimersByTime(60_000);
    expect((await verify("correct horse battery")).status).toBe(401);
    expect((await verify("correct horse battery", rotated.key)).status).toBe(200);
    await root.as.mutation(api.apiKeys.revokeKey, { keyId: first.keyId });
    expect((await list())[0]).toMatchObject({ state: "revoked" });
    const actions = (await root.as.query(api.auditDashboard.list, page(50))).page.map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(["guard.apiKey.create", "guard.apiKey.rotate", "guard.apiKey.revoke"]),
    );
    void t;
  });

  test("only superadmins", async () => {
    const { t } = await setup();
    const ada = await addUser(t, "ada", "admin");
    await expect(
      ada.as.mutation(api.apiKeys.createKey, { name: "x", scopes: ["login:verify"] }),
    ).rejects.toThrow(/superadmin|permission|FORBIDDEN/i);
    await expect(ada.as.query(api.apiKeys.listKeys, page(5))).rejects.toThrow();
  });
});
