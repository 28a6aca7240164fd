import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog } from "../../src/client/auditLog.js";
import { Confirmations } from "../../src/client/confirmations.js";
import { CODE_SWEEP_BATCH } from "../../src/component/codes.js";
import { MINUTE, HOUR } from "../../src/component/lib/time.js";
import { components, measure, runInGuard, rw } from "../setup.js";
import { SECRET, advance, codeRows, dumpComponent, setup, useClock, wrong } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

async function issued(p: Promise<{ ok: boolean } & Record<string, any>>) {
  const r = await p;
  if (!r.ok) throw new Error(`issue failed: ${JSON.stringify(r)}`);
  return r as { ok: true; code: string; codeId: string; expiresAt: number };
}

describe("issue and consume", () => {
  test("a code confirms its (subject, action, payload) once", async () => {
    const s = setup();
    const r = await issued(s.issue("admin", "user.delete", { userId: "u1" }));
    expect(r.code).toMatch(/^\d{8}$/);
    expect(r.expiresAt).toBe(Date.now() + 10 * MINUTE);
    const st = await s.status("admin", "user.delete");
    expect(st).toEqual({
      state: "pending",
      pending: true,
      codeId: r.codeId,
      expiresAt: r.expiresAt,
      attemptsLeft: 5,
    });
    expect(await s.consume("admin", "user.delete", { userId: "u1" }, r.code)).toEqual({
      ok: true,
      codeId: r.codeId,
    });
    expect(await s.consume("admin", "user.delete", { userId: "u1" }, r.code)).toMatchObject({
      ok: false,
      reason: "used",
    });
  });

  test("codes are typed leniently: spaces and hyphens ignored, alphanumeric case-insensitive", async () => {
    const s = setup({ alphanumeric: 10 });
    const r = await issued(s.issue("a", "x"));
    expect(r.code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/);
    const typed = `${r.code.slice(0, 5).toLowerCase()}-${r.code.slice(5)} `;
    expect(await s.consume("a", "x", undefined, typed)).toMatchObject({ ok: true });
  });

  test("a wrong code is returned as invalid, counts, and persists", async () => {
    const s = setup();
    const r = await issued(s.issue("a", "x"));
    expect(await s.consume("a", "x", undefined, wrong(r.code))).toEqual({
      ok: false,
      reason: "invalid",
      attemptsLeft: 4,
      codeId: r.codeId,
    });
    expect(await s.status("a", "x")).toMatchObject({ state: "pending", attemptsLeft: 4 });
  });

  test("after maxAttempts wrong tries the code is locked, even for the right code", async () => {
    const s = setup({ maxAttempts: 3 });
    const r = await issued(s.issue("a", "x"));
    for (let i = 0; i < 3; i++) await s.consume("a", "x", undefined, wrong(r.code));
    expect(await s.consume("a", "x", undefined, r.code)).toMatchObject({
      ok: false,
      reason: "locked",
      attemptsLeft: 0,
    });
    expect(await s.status("a", "x")).toMatchObject({ state: "locked", pending: false });
  });

  test("an expired code never succeeds, and is not counted", async () => {
    const s = setup({ ttl: MINUTE });
    const r = await issued(s.issue("a", "x"));
    advance(MINUTE);
    expect(await s.consume("a", "x", undefined, r.code)).toEqual({
      ok: false,
      reason: "expired",
      codeId: r.codeId,
    });
    expect(await s.status("a", "x")).toMatchObject({ state: "expired", pending: false });
  });

  test("no code at all is 'none'", async () => {
    const s = setup();
    expect(await s.consume("a", "x", undefined, "12345678")).toEqual({ ok: false, reason: "none" });
    expect(await s.status("a", "x")).toEqual({ state: "none", pending: false });
  });

  test("a revoked code never succeeds; revoking twice is a no-op", async () => {
    const s = setup();
    const r = await issued(s.issue("a", "x"));
    expect(await s.revoke("a", "x")).toEqual({ revoked: true, codeId: r.codeId });
    expect(await s.revoke("a", "x")).toEqual({ revoked: false });
    expect(await s.consume("a", "x", undefined, r.code)).toEqual({ ok: false, reason: "none" });
    expect(await s.status("a", "x")).toMatchObject({ state: "revoked" });
  });
});

describe("supersede and carry-over", () => {
  test("issuing again supersedes the pending code and keeps its failure count", async () => {
    const s = setup({ maxAttempts: 5 });
    const first = await issued(s.issue("a", "x"));
    await s.consume("a", "x", undefined, wrong(first.code));
    await s.consume("a", "x", undefined, wrong(first.code));
    const second = await issued(s.issue("a", "x"));
    expect(second.codeId).not.toBe(first.codeId);
    expect(await s.status("a", "x")).toMatchObject({
      state: "pending",
      attemptsLeft: 3,
      codeId: second.codeId,
    });
    if (first.code !== second.code) {
      expect(await s.consume("a", "x", undefined, first.code)).toMatchObject({
        ok: false,
        reason: "invalid",
        attemptsLeft: 2,
      });
    }
    expect(await s.consume("a", "x", undefined, second.code)).toMatchObject({
      ok: true,
      codeId: second.codeId,
    });
  });

  test("while a code is locked, issuing is refused until it expires; then counts start fresh", async () => {
    const s = setup({ maxAttempts: 2, ttl: 5 * MINUTE });
    const r = await issued(s.issue("a", "x"));
    await s.consume("a", "x", undefined, wrong(r.code));
    await s.consume("a", "x", undefined, wrong(r.code));
    expect(await s.issue("a", "x")).toEqual({
      ok: false,
      reason: "locked",
      retryAfter: 5 * MINUTE,
    });
    // revoking does not unlock either
    await s.revoke("a", "x");
    expect(await s.issue("a", "x")).toMatchObject({ ok: false, reason: "locked" });
    advance(5 * MINUTE);
    await issued(s.issue("a", "x"));
    expect(await s.status("a", "x")).toMatchObject({ state: "pending", attemptsLeft: 2 });
  });

  test("a success resets the count for the next code", async () => {
    const s = setup({ maxAttempts: 3 });
    const r = await issued(s.issue("a", "x"));
    await s.consume("a", "x", undefined, wrong(r.code));
    await s.consume("a", "x", undefined, r.code);
    await issued(s.issue("a", "x"));
    expect(await s.status("a", "x")).toMatchObject({ attemptsLeft: 3 });
  });
});

describe("limits", () => {
  test("issue is rate limited per (subject, action) with the exact retryAfter", async () => {
    const s = setup({ issueLimit: { rate: 2, period: 10 * MINUTE } });
    await issued(s.issue("a", "x"));
    advance(MINUTE);
    await issued(s.issue("a", "x"));
    expect(await s.issue("a", "x")).toEqual({
      ok: false,
      reason: "rate_limited",
      retryAfter: 9 * MINUTE,
    });
    expect(await s.issue("a", "y")).toMatchObject({ ok: true }); // another action has its own budget
    expect(await s.issue("b", "x")).toMatchObject({ ok: true }); // another subject too
    advance(9 * MINUTE);
    expect(await s.issue("a", "x")).toMatchObject({ ok: true });
  });

  test("the failure limit spans codes: once spent, no guess is evaluated until it recovers", async () => {
    const s = setup({ maxAttempts: 3, ttl: MINUTE, failureLimit: { rate: 4, period: HOUR } });
    let r = await issued(s.issue("a", "x"));
    for (let i = 0; i < 3; i++) await s.consume("a", "x", undefined, wrong(r.code));
    advance(MINUTE); // the locked code expires: a fresh code, fresh per-code tries
    r = await issued(s.issue("a", "x"));
    await s.consume("a", "x", undefined, wrong(r.code)); // 4th failure this hour
    const blocked = await s.consume("a", "x", undefined, r.code); // even the right code
    expect(blocked).toMatchObject({ ok: false, reason: "locked", attemptsLeft: 2 });
    expect((blocked as { retryAfter: number }).retryAfter).toBe(HOUR - MINUTE);
    expect(await s.status("a", "x")).toMatchObject({ state: "pending", attemptsLeft: 2 }); // not counted
  });
});

describe("transactions", () => {
  test("a host mutation that throws after issue leaves nothing behind", async () => {
    const s = setup();
    const before = await dumpComponent(s.t);
    await expect(
      s.t.mutation(async (ctx) => {
        await s.c.issue(ctx, { subject: "a", action: "x" });
        throw new Error("host failed");
      }),
    ).rejects.toThrow("host failed");
    expect(await dumpComponent(s.t)).toEqual(before);
  });

  test("a failed consume persists when the host returns normally, and is lost if the host throws", async () => {
    const s = setup();
    const r = await issued(s.issue("a", "x"));
    await expect(
      s.t.mutation(async (ctx) => {
        await s.c.consume(ctx, { subject: "a", action: "x", code: wrong(r.code) });
        throw new Error("host threw after a failed consume");
      }),
    ).rejects.toThrow();
    expect(await s.status("a", "x")).toMatchObject({ attemptsLeft: 5 }); // why hosts must not throw
    await s.consume("a", "x", undefined, wrong(r.code));
    expect(await s.status("a", "x")).toMatchObject({ attemptsLeft: 4 });
  });
});

describe("binding", () => {
  test("a code for payload A never confirms payload B, another action or another subject", async () => {
    const s = setup();
    const r = await issued(s.issue("admin", "user.delete", { userId: "A", scope: ["all"] }));
    await issued(s.issue("admin", "payout.change"));
    await issued(s.issue("other", "user.delete", { userId: "A", scope: ["all"] }));
    expect(
      await s.consume("admin", "user.delete", { userId: "B", scope: ["all"] }, r.code),
    ).toMatchObject({
      ok: false,
      reason: "mismatch",
      attemptsLeft: 4,
    });
    expect(await s.consume("admin", "user.delete", { userId: "A" }, r.code)).toMatchObject({
      reason: "mismatch",
    });
    expect(await s.consume("admin", "user.delete", undefined, r.code)).toMatchObject({
      reason: "mismatch",
    });
    expect(await s.consume("admin", "payout.change", undefined, r.code)).toMatchObject({
      ok: false,
    });
    expect(
      await s.consume("other", "user.delete", { userId: "A", scope: ["all"] }, r.code),
    ).toMatchObject({ ok: false });
    // key order does not matter: the payload is hashed as canonical JSON
    expect(
      await s.consume("admin", "user.delete", { scope: ["all"], userId: "A" }, r.code),
    ).toMatchObject({ ok: true });
  });

  test("a code issued under another secret never confirms", async () => {
    const s = setup();
    const r = await issued(s.issue("a", "x"));
    const other = new Confirmations(components.guard, {
      secret: "another-secret-of-at-least-32-bytes!!",
    });
    const res = await s.t.mutation(async (ctx) =>
      other.consume(ctx, { subject: "a", action: "x", code: r.code }),
    );
    expect(res).toMatchObject({ ok: false, reason: "mismatch" });
  });
});

describe("storage", () => {
  test("no document in any component table (or scheduled job) contains a code or the secret", async () => {
    const s = setup({ alphanumeric: 12 });
    const audit = new AuditLog(components.guard);
    const withAudit = new Confirmations(components.guard, {
      secret: SECRET,
      alphanumeric: 12,
      audit,
    });
    const codes: string[] = [];
    for (const subject of ["s1", "s2", "s3"]) {
      const r = await issued(
        s.t.mutation(async (ctx) =>
          withAudit.issue(ctx, { subject, action: "act", payload: { subject } }),
        ),
      );
      codes.push(r.code);
      await s.t.mutation(async (ctx) =>
        withAudit.consume(ctx, {
          subject,
          action: "act",
          payload: { subject },
          code: wrong(r.code),
        }),
      );
    }
    const [s1Code] = codes;
    if (s1Code === undefined) throw new Error("the loop above issued s1 a code");
    await s.t.mutation(async (ctx) =>
      withAudit.consume(ctx, {
        subject: "s1",
        action: "act",
        payload: { subject: "s1" },
        code: s1Code,
      }),
    );
    const superseded = await issued(s.issue("s2", "act", { subject: "s2" }));
    codes.push(superseded.code);
    await s.revoke("s3", "act");
    await s.t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    const docs = await dumpComponent(s.t);
    expect(docs.some((d) => d.includes("guard.confirmation.issue"))).toBe(true); // the audit log was written
    for (const code of codes) expect(docs.filter((d) => d.includes(code))).toEqual([]);
    expect(docs.filter((d) => d.includes(SECRET))).toEqual([]);
  });

  test("expired rows (pending, consumed, revoked, locked) are deleted in bounded batches", async () => {
    const s = setup({ ttl: MINUTE, grace: 0 });
    await runInGuard(s.t, async (ctx) => {
      for (let i = 0; i < CODE_SWEEP_BATCH + 5; i++) {
        await ctx.db.insert("confirmationCodes", {
          subject: `s${i}`,
          action: "x",
          codeId: `id${i}`,
          version: 2,
          codeVerifier: "m",
          payloadVerifier: "p",
          state: (["pending", "consumed", "revoked", "locked"] as const)[i % 4] ?? "pending",
          failures: 0,
          maxAttempts: 5,
          issuedAt: Date.now(),
          expiresAt: Date.now() + MINUTE,
          deleteAt: Date.now() + MINUTE,
        });
      }
    });
    const live = await issued(s.issue("live", "x"));
    advance(MINUTE - 1);
    const runNow = () =>
      s.t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    expect((await runNow()).codes).toBe(0);
    advance(1);
    const live2 = await issued(s.issue("live2", "x"));
    expect(await runNow()).toMatchObject({ codes: CODE_SWEEP_BATCH, more: true });
    expect(await runNow()).toMatchObject({ codes: 6, more: false });
    const left = await codeRows(s.t);
    expect(left.map((r) => r.codeId)).toEqual([live2.codeId]);
    expect(live.codeId).not.toBe(live2.codeId);
  });
});

describe("grace after expiry", () => {
  const runNow = (s: ReturnType<typeof setup>) =>
    s.t.mutation(async (ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));

  test("an expired code answers expired and a consumed one used until the grace ends, then none", async () => {
    const s = setup({ ttl: MINUTE, grace: HOUR });
    const a = await issued(s.issue("a", "x"));
    const b = await issued(s.issue("b", "x"));
    expect(await s.consume("b", "x", undefined, b.code)).toMatchObject({ ok: true });
    advance(MINUTE + HOUR - 1);
    expect((await runNow(s)).codes).toBe(0);
    expect(await s.consume("a", "x", undefined, a.code)).toMatchObject({ reason: "expired" });
    expect(await s.consume("b", "x", undefined, b.code)).toMatchObject({ reason: "used" });
    advance(1);
    expect((await runNow(s)).codes).toBe(2);
    expect(await s.consume("a", "x", undefined, a.code)).toMatchObject({ reason: "none" });
    expect(await codeRows(s.t)).toEqual([]);
  });

  test("the default grace is 24 hours; the loop's next due time is expiresAt + grace", async () => {
    const s = setup({ ttl: MINUTE });
    const a = await issued(s.issue("a", "x"));
    const [row] = await codeRows(s.t);
    expect(row?.deleteAt).toBe(a.expiresAt + 24 * HOUR);
    const status = await s.t.query(async (ctx) =>
      ctx.runQuery(components.guard.maintenance.status, {}),
    );
    expect(JSON.stringify(status)).toContain("codes");
  });

  test.each([-1, 1.5, NaN, 7 * 24 * HOUR + 1])("grace %s → INVALID_CONFIG", (grace) => {
    expect(() => new Confirmations(components.guard, { secret: SECRET, grace })).toThrow(/grace/);
  });
});

describe("audit", () => {
  test("each issue / consume / fail / lockout / revoke leaves exactly one event, without the code", async () => {
    const s = setup({ maxAttempts: 2 });
    const r = await issued(s.issue("adm", "user.delete", { userId: "u" }));
    expect(s.events).toHaveLength(1);
    expect(s.events[0]).toMatchObject({
      action: "guard.confirmation.issue",
      actor: { type: "subject", id: "adm" },
      targets: [{ type: "confirmation", id: r.codeId }],
      outcome: "success",
      metadata: { confirmationAction: "user.delete", expiresAt: r.expiresAt },
    });
    await s.consume("adm", "user.delete", { userId: "u" }, wrong(r.code));
    expect(s.events.slice(1)).toEqual([
      expect.objectContaining({
        action: "guard.confirmation.fail",
        outcome: "failure",
        reason: "invalid",
        metadata: { confirmationAction: "user.delete", attemptsLeft: 1 },
      }),
    ]);
    await s.consume("adm", "user.delete", { userId: "v" }, r.code);
    expect(s.events.slice(2)).toEqual([
      expect.objectContaining({
        action: "guard.confirmation.lockout",
        outcome: "failure",
        reason: "mismatch",
        severity: "warning",
      }),
    ]);
    await s.consume("adm", "user.delete", { userId: "u" }, r.code);
    expect(s.events.slice(3)).toEqual([
      expect.objectContaining({ action: "guard.confirmation.fail", reason: "locked" }),
    ]);
    expect(await s.issue("adm", "user.delete", { userId: "u" })).toMatchObject({ ok: false });
    expect(s.events.slice(4)).toEqual([
      expect.objectContaining({
        action: "guard.confirmation.issue",
        outcome: "denied",
        reason: "locked",
      }),
    ]);

    const t2 = await issued(s.issue("adm", "other"));
    await s.consume("adm", "other", undefined, t2.code);
    expect(s.events.slice(6)).toEqual([
      expect.objectContaining({
        action: "guard.confirmation.consume",
        outcome: "success",
        targets: [{ type: "confirmation", id: t2.codeId }],
      }),
    ]);
    await issued(s.issue("adm", "third"));
    await s.revoke("adm", "third");
    expect(s.events.slice(8)).toEqual([
      expect.objectContaining({ action: "guard.confirmation.revoke" }),
    ]);
    expect(s.events).toHaveLength(9);
    for (const e of s.events) {
      const json = JSON.stringify(e);
      expect(json).not.toContain(r.code);
      expect(json).not.toContain(t2.code);
      expect(json).not.toContain(SECRET);
    }
  });

  test("with a real AuditLog, events are stored in the same transaction", async () => {
    const s = setup();
    const audit = new AuditLog(components.guard);
    const c = new Confirmations(components.guard, { secret: SECRET, audit });
    const r = await issued(
      s.t.mutation(async (ctx) => c.issue(ctx, { subject: "a", action: "x" })),
    );
    await s.t.mutation(async (ctx) => c.consume(ctx, { subject: "a", action: "x", code: r.code }));
    await s.t.mutation(async (ctx) =>
      c.consume(ctx, { subject: "nobody", action: "x", code: "12345678" }),
    );
    const page = await s.t.query(async (ctx) =>
      audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
    );
    expect(page.page.map((e) => `${e.action}:${e.outcome}`).sort()).toEqual([
      "guard.confirmation.consume:success",
      "guard.confirmation.fail:failure",
      "guard.confirmation.issue:success",
    ]);
    expect(JSON.stringify(page.page)).not.toContain(r.code);
  });
});

describe("cost per call (convex-test transaction metrics)", () => {
  test("issue, consume right and wrong, status, revoke", async () => {
    const s = setup({ audit: undefined });
    const c = new Confirmations(components.guard, { secret: SECRET });
    const costs: Record<string, { read: number; written: number }> = {};
    // The very first code of the deployment also starts the maintenance loop.
    const first = await measure(s.t, (ctx) => c.issue(ctx, { subject: "a", action: "x" }));
    costs["issue (first code ever)"] = rw(first.cost);
    const fresh = await measure(s.t, (ctx) => c.issue(ctx, { subject: "b", action: "x" }));
    costs["issue (new subject+action)"] = rw(fresh.cost);
    const again = await measure(s.t, (ctx) => c.issue(ctx, { subject: "b", action: "x" }));
    costs["issue (supersede)"] = rw(again.cost);
    const code = (again.result as { code: string }).code;
    const bad = await measure(s.t, (ctx) =>
      c.consume(ctx, { subject: "b", action: "x", code: wrong(code) }),
    );
    costs["consume wrong (first failure)"] = rw(bad.cost);
    const bad2 = await measure(s.t, (ctx) =>
      c.consume(ctx, { subject: "b", action: "x", code: wrong(code) }),
    );
    costs["consume wrong"] = rw(bad2.cost);
    const good = await measure(s.t, (ctx) => c.consume(ctx, { subject: "b", action: "x", code }));
    costs["consume right"] = rw(good.cost);
    const used = await measure(s.t, (ctx) => c.consume(ctx, { subject: "b", action: "x", code }));
    costs["consume used/expired/none"] = rw(used.cost);
    const st = await measure(s.t, (ctx) => c.status(ctx, { subject: "a", action: "x" }));
    costs["status"] = rw(st.cost);
    const rv = await measure(s.t, (ctx) => c.revoke(ctx, { subject: "a", action: "x" }));
    costs["revoke"] = rw(rv.cost);
    console.log("confirmation cost per call (documents):", costs);
    // convex-test counts a patch as a read of the patched document too.
    expect(costs).toEqual({
      // code row and limiter misses read nothing; the loop-state doc is read once (by our
      // ensureMaintenance, after the limiter's created it); writes: loop state, limiter, code
      "issue (first code ever)": { read: 1, written: 3 },
      // the limiter's and our ensureMaintenance each read the loop-state doc; writes: limiter, code
      "issue (new subject+action)": { read: 2, written: 2 },
      "issue (supersede)": { read: 4, written: 2 }, // code row + patch, limiter doc + patch
      "consume wrong (first failure)": { read: 3, written: 2 }, // code row + patch, loop state; new failure-limit doc
      "consume wrong": { read: 4, written: 2 }, // code row + patch, failure limit read (once) + patch
      "consume right": { read: 3, written: 1 }, // code row + patch, failure limit peek
      "consume used/expired/none": { read: 1, written: 0 },
      status: { read: 1, written: 0 },
      revoke: { read: 2, written: 1 },
    });
  });
});
