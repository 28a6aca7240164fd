/**
 * The example app's flows end to end, on fake timers: rate-limited messages,
 * the sign-up throttle, two-step user deletion with a confirmation code, and the admin audit dashboard.
 */
import guardTest from "convex-guard/test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  addUser,
  identityOf,
  lastDeliveredCode,
  newApp,
  rejection,
  runInGuard,
  serviceKey,
  type App,
} from "../harness.js";
import { api } from "./_generated/api.js";
import { devOutbox } from "./lib/delivery.js";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9, 0, 0));
});
afterEach(() => vi.useRealTimers());

/** Advances the clock in bounded steps, running what the scheduler made due (the guard's loop never ends). */
async function advance(t: App, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    vi.advanceTimersByTime(Math.min(1_000, end - Date.now()));
    await t.finishInProgressScheduledFunctions();
  }
}

const page = (numItems: number, cursor: string | null = null) => ({
  paginationOpts: { numItems, cursor },
});

describe("messages", () => {
  test("5 per rolling minute per user: the 6th is denied with retryAfter and admitted once it has passed", async () => {
    const t = newApp();
    const alice = await addUser(t, "alice");
    for (let i = 0; i < 5; i++) {
      expect((await alice.as.mutation(api.messages.sendMessage, { body: `m${i}` })).ok).toBe(true);
      await advance(t, 5_000);
    }
    const denied = await alice.as.mutation(api.messages.sendMessage, { body: "too many" });
    expect(denied.ok).toBe(false);
    if (denied.ok) return;
    expect(denied.retryAfter).toBeGreaterThan(0);
    expect(denied.retryAfter).toBeLessThanOrEqual(60_000);
    // A denial writes no message.
    expect((await alice.as.query(api.messages.listMyMessages, page(50))).page).toHaveLength(5);
    await advance(t, denied.retryAfter);
    expect((await alice.as.mutation(api.messages.sendMessage, { body: "later" })).ok).toBe(true);
  });

  test("one user's limit does not touch another's", async () => {
    const t = newApp();
    const alice = await addUser(t, "alice");
    const bob = await addUser(t, "bob");
    for (let i = 0; i < 6; i++)
      await alice.as.mutation(api.messages.sendMessage, { body: `m${i}` });
    expect((await bob.as.mutation(api.messages.sendMessage, { body: "hi" })).ok).toBe(true);
  });
});

describe("sign-up throttle", () => {
  test("at most 100 new accounts per fixed hour; the 101st is refused with RateLimited", async () => {
    const t = newApp();
    for (let i = 0; i < 100; i++)
      await t.withIdentity(identityOf(`u${i}`)).mutation(api.users.signUp, { name: `u${i}` });
    const err = await rejection(
      t.withIdentity(identityOf("late")).mutation(api.users.signUp, { name: "late" }),
    );
    expect(err).toMatchObject({ kind: "RateLimited", name: "signUp" });
    expect(await t.run(async (ctx) => (await ctx.db.query("users").collect()).length)).toBe(100);
    await advance(t, err.retryAfter);
    await t.withIdentity(identityOf("late")).mutation(api.users.signUp, { name: "late" });
  });
});

describe("two-step user deletion", () => {
  async function setup() {
    const t = newApp();
    const root = await addUser(t, "root", "superadmin");
    const bob = await addUser(t, "bob");
    const carol = await addUser(t, "carol");
    await bob.as.mutation(api.messages.sendMessage, { body: "bob was here" });
    return { t, root, bob, carol };
  }

  test("the code reaches the superadmin out of band only: not in the result, the scheduler or any guard table", async () => {
    const { t, root, bob } = await setup();
    const r = await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    expect(r.ok).toBe(true);
    const code = lastDeliveredCode(root.email)!;
    expect(code).toMatch(/^\d{8}$/);
    expect(JSON.stringify(r)).not.toContain(code);
    const scheduled = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(JSON.stringify(scheduled)).not.toContain(code);
    const stored = await runInGuard(t, async (ctx) => {
      const all: unknown[] = [];
      for (const table of Object.keys(guardTest.schema.tables))
        all.push(...(await ctx.db.query(table).collect()));
      all.push(...(await ctx.db.system.query("_scheduled_functions").collect()));
      return all;
    });
    // Audit rows hold commit timestamps (bigint), which JSON cannot encode as numbers.
    const text = JSON.stringify(stored, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v));
    expect(text).not.toContain(code);
    // The HMAC secret stays in the app's functions: nothing of the component's holds it.
    expect(text).not.toContain(process.env.GUARD_SECRET!);
  });

  test("wrong code, then another user's id, then the right code: only the last deletes, once", async () => {
    const { t, root, bob, carol } = await setup();
    await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    const code = lastDeliveredCode(root.email)!;
    const wrong = code === "00000000" ? "11111111" : "00000000";
    expect(
      await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code: wrong }),
    ).toMatchObject({
      ok: false,
      reason: "invalid",
      attemptsLeft: 4,
    });
    expect(
      await root.as.mutation(api.admin.confirmUserDeletion, { userId: carol.id, code }),
    ).toMatchObject({
      ok: false,
      reason: "mismatch",
    });
    expect(await t.run((ctx) => ctx.db.get("users", carol.id))).not.toBeNull();
    expect(
      await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code }),
    ).toMatchObject({ ok: true });
    await advance(t, 1_000);
    expect(await t.run((ctx) => ctx.db.get("users", bob.id))).toBeNull();
    expect(await t.run((ctx) => ctx.db.query("messages").collect())).toEqual([]);
    expect(
      (await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code })).ok,
    ).toBe(false);
  });

  test("deletion erases the user's personal audit fields (lockouts too), and the log still verifies", async () => {
    const { t, root, bob } = await setup();
    await bob.as.mutation(api.users.setMyPassword, { password: "bob's long password" });
    const { key } = await serviceKey(root, "login server", ["login:verify"]);
    const login = (password: string) =>
      t.fetch("/service/verify-password", {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ email: bob.email, password }),
      });
    expect(await (await login("bob's long password")).json()).toMatchObject({ ok: true });
    for (let i = 0; i < 5; i++) await login("wrong");
    expect(await (await login("bob's long password")).json()).toMatchObject({ reason: "locked" });
    await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    await root.as.mutation(api.admin.confirmUserDeletion, {
      userId: bob.id,
      code: lastDeliveredCode(root.email)!,
    });
    await advance(t, 2 * 60_000);
    const aboutBob = await root.as.query(api.auditDashboard.list, {
      target: { type: "user", id: bob.id },
      ...page(50),
    });
    const logins = aboutBob.page.filter((e) => e.action === "auth.login");
    expect(logins.map((e) => e.outcome).sort()).toEqual([
      "denied", // the lockout names bob as its target, so erasure finds it
      ...Array(5).fill("failure"),
      "success",
    ]);
    for (const e of logins) {
      expect(e.metadata?.email).toBeUndefined(); // stored only as a commitment, now erased
      expect(e.redacted?.map((r) => r.path)).toEqual(["metadata.email"]);
    }
    const everything = await root.as.query(api.auditDashboard.list, page(200));
    expect(JSON.stringify(everything)).not.toContain(bob.email);
    expect(aboutBob.page.find((e) => e.action === "guard.audit.erase")?.metadata).toEqual({
      erased: 7,
      done: true,
    });
    expect(await root.as.query(api.auditDashboard.verify, {})).toMatchObject({
      ok: true,
      break: null,
    });
  });

  test("a name is one line: newlines are refused, and a name written around that check stays one quoted line in the email", async () => {
    const { t, root, bob } = await setup();
    expect(
      await rejection(
        bob.as.mutation(api.users.updateMyName, { name: "bob\nYour code is 00000000." }),
      ),
    ).toMatchObject({ code: "INVALID_ARGUMENT" });
    await t.run((ctx) => ctx.db.patch("users", bob.id, { name: "bob\nYour code is 00000000." }));
    await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    const text = devOutbox.at(-1)!.text;
    expect(text).not.toContain("\n");
    expect(text).toMatch(/^Your code to delete "bob Your code is 00000000\." is \d{8}\./);
    expect(lastDeliveredCode(root.email)).toMatch(/^\d{8}$/);
  });

  test("five wrong guesses lock the code: the right one no longer works", async () => {
    const { t, root, bob } = await setup();
    await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    const code = lastDeliveredCode(root.email)!;
    const wrong = code === "00000000" ? "11111111" : "00000000";
    for (let i = 0; i < 5; i++)
      await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code: wrong });
    expect(
      await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code }),
    ).toMatchObject({
      ok: false,
      reason: "locked",
    });
    expect(await t.run((ctx) => ctx.db.get("users", bob.id))).not.toBeNull();
  });

  test("asking for codes is limited (5 per 10 minutes per superadmin): the 6th is refused and nothing is delivered", async () => {
    const { root, bob } = await setup();
    for (let i = 0; i < 5; i++)
      expect((await root.as.action(api.admin.requestUserDeletion, { userId: bob.id })).ok).toBe(
        true,
      );
    const code = lastDeliveredCode(root.email);
    const sixth = await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    expect(sixth).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(lastDeliveredCode(root.email)).toBe(code);
  });

  test("every step is audited, and no event holds the code", async () => {
    const { root, bob } = await setup();
    await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
    const code = lastDeliveredCode(root.email)!;
    await root.as.mutation(api.admin.confirmUserDeletion, {
      userId: bob.id,
      code: code === "00000000" ? "1" : "0",
    });
    await root.as.mutation(api.admin.confirmUserDeletion, { userId: bob.id, code });
    const events = await root.as.query(api.auditDashboard.list, { order: "asc", ...page(100) });
    const actions = events.page.map((e) => `${e.action}:${e.outcome}`);
    expect(actions.filter((a) => a.startsWith("guard.")).length).toBeGreaterThanOrEqual(3); // issue, failure, consume
    expect(actions).toContain("user.delete:success");
    expect(JSON.stringify(events)).not.toContain(code);
  });
});

describe("admin audit dashboard", () => {
  async function setup() {
    const t = newApp();
    const admin = await addUser(t, "admin", "admin");
    const root = await addUser(t, "root", "superadmin");
    const users = [];
    for (const h of ["u1", "u2", "u3"]) {
      users.push(await addUser(t, h));
      await advance(t, 60_000);
    }
    for (const u of users) {
      await root.as.mutation(api.users.setRole, { userId: u.id, role: "moderator" });
      await advance(t, 60_000);
    }
    return { t, admin, root, users };
  }

  test("filters by actor, target, action and time, page by page", async () => {
    const { t, admin, root, users } = await setup();
    const byActor = await admin.as.query(api.auditDashboard.list, {
      actor: { type: "user", id: root.id },
      ...page(50),
    });
    expect(byActor.page.map((e) => e.action)).toEqual([
      "user.setRole",
      "user.setRole",
      "user.setRole",
      "user.signUp",
    ]);
    const [, u2] = users;
    if (u2 === undefined) throw new Error("setup adds three users");
    const byTarget = await admin.as.query(api.auditDashboard.list, {
      target: { type: "user", id: u2.id },
      ...page(50),
    });
    expect(byTarget.page.map((e) => e.action)).toEqual(["user.setRole", "user.signUp"]);
    const byAction = await admin.as.query(api.auditDashboard.list, {
      action: "user.setRole",
      ...page(50),
    });
    // 3 grants through the service path in addUser + 3 by root.
    expect(byAction.page.length).toBe(5);
    const [newest, second] = byAction.page;
    if (newest === undefined || second === undefined) throw new Error("five events were listed");
    const from = second.recordedAt;
    const to = newest.recordedAt;
    const inRange = await admin.as.query(api.auditDashboard.list, {
      action: "user.setRole",
      from,
      to,
      ...page(50),
    });
    expect(inRange.page.map((e) => e.id)).toEqual([newest.id, second.id]);
    // Pages of 2 cover the whole log exactly once.
    const all = await admin.as.query(api.auditDashboard.list, page(100));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const p: any = await admin.as.query(api.auditDashboard.list, page(2, cursor));
      seen.push(...p.page.map((e: { id: string }) => e.id));
      if (p.isDone) break;
      cursor = p.continueCursor;
    }
    expect(seen).toEqual(all.page.map((e) => e.id));
    void t;
  });

  test("an unsupported filter combination is an error, never a silent scan", async () => {
    const { admin, root } = await setup();
    const err = await rejection(
      admin.as.query(api.auditDashboard.list, {
        actor: { type: "user", id: root.id },
        action: "user.setRole",
        ...page(10),
      }),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
  });

  test("verify passes on the sealed log and reports an event edited in the component's table", async () => {
    const { t, admin } = await setup();
    await advance(t, 5_000);
    const ok = await admin.as.query(api.auditDashboard.verify, {});
    expect(ok).toMatchObject({ ok: true, break: null });
    expect(ok.checkedEvents).toBeGreaterThan(0);
    const seq = await runInGuard(t, async (ctx) => {
      const e = (await ctx.db.query("auditEvents").collect()).find(
        (x: any) => x.action === "user.setRole",
      );
      await ctx.db.patch(e._id, { outcome: "failure" });
      return e.seq;
    });
    const broken = await admin.as.query(api.auditDashboard.verify, {});
    expect(broken.ok).toBe(false);
    expect(broken.break).toMatchObject({ seq });
  });
});
