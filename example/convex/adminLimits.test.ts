/**
 * The rate-limit admin page: stats of refused messages, blocking a sender
 * (audited, denied with reason "blocked"), listing and lifting blocks, and
 * who may do it.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { addUser, newApp, rejection } from "../harness.js";
import { api } from "./_generated/api.js";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

test("admins see refused senders per hour, block one, list and lift the block", async () => {
  const t = newApp();
  const admin = await addUser(t, "admin", "admin");
  const alice = await addUser(t, "alice");
  const bob = await addUser(t, "bob");
  const send = (u: typeof alice) => u.as.mutation(api.messages.sendMessage, { body: "hi" });
  for (let i = 0; i < 8; i++) await send(alice); // 5 sent, 3 refused
  await send(bob);

  // Block bob for an hour: his next message is refused, alice's window is unaffected.
  await admin.as.mutation(api.adminLimits.blockSender, {
    sender: bob.id,
    minutes: 60,
    reason: "spam",
  });
  expect((await send(bob)).ok).toBe(false);
  const blocked = await admin.as.query(api.adminLimits.blockedSenders, {
    paginationOpts: { numItems: 10, cursor: null },
  });
  expect(blocked.page).toEqual([{ key: bob.id, until: T0 + 3_600_000, reason: "spam" }]);

  // After the hour, the maintenance loop (run by the scheduler) folds the hour's counts.
  vi.setSystemTime(T0 + 62 * 60_000);
  await t.finishInProgressScheduledFunctions();
  vi.advanceTimersByTime(60_000);
  await t.finishInProgressScheduledFunctions();
  const stats = await admin.as.query(api.adminLimits.messageStats, { hours: 2 });
  expect(stats.total).toEqual({ allowed: 6, denied: 4, consumed: 6 });
  expect(stats.topDenied.map((k) => [k.key, k.denied])).toEqual([
    [alice.id, 3],
    [bob.id, 1],
  ]);
  const mine = await admin.as.query(api.adminLimits.messageStats, { sender: alice.id });
  expect(mine.hours).toEqual([{ hour: T0, allowed: 5, denied: 3, consumed: 5 }]);
  // The page sends its zone: the same hour, under the admin's local day.
  const local = await admin.as.query(api.adminLimits.messageStats, {
    sender: alice.id,
    timeZone: "Asia/Tokyo",
  });
  expect(local.hours).toEqual(mine.hours);
  // T0 is 18:00 in Tokyo (UTC+9) on January 5, a day that began at 15:00 UTC on the 4th.
  expect(local.days.map((d) => d.day)).toEqual([Date.UTC(2026, 0, 4, 15)]);

  // The block has ended by itself; unblocking now finds none.
  expect(await admin.as.mutation(api.adminLimits.unblockSender, { sender: bob.id })).toEqual({
    unblocked: false,
  });
  expect((await send(bob)).ok).toBe(true);

  // The block is in the audit log, with the admin as actor.
  const events = await admin.as.query(api.auditDashboard.list, {
    action: "guard.rateLimit.block",
    paginationOpts: { numItems: 10, cursor: null },
  });
  expect(events.page).toHaveLength(1);
  expect(events.page[0]).toMatchObject({
    actor: { type: "user", id: admin.id },
    reason: "spam",
    targets: [{ type: "rateLimitKey", id: bob.id, name: "sendMessage" }],
  });
});

test("an unblock is audited; only admins manage limits; bad input is refused", async () => {
  const t = newApp();
  const admin = await addUser(t, "admin", "admin");
  const bob = await addUser(t, "bob");
  await admin.as.mutation(api.adminLimits.blockSender, {
    sender: bob.id,
    minutes: 10,
    reason: "spam",
  });
  expect(await admin.as.mutation(api.adminLimits.unblockSender, { sender: bob.id })).toEqual({
    unblocked: true,
  });
  expect((await bob.as.mutation(api.messages.sendMessage, { body: "back" })).ok).toBe(true);
  const events = await admin.as.query(api.auditDashboard.list, {
    action: "guard.rateLimit.unblock",
    paginationOpts: { numItems: 10, cursor: null },
  });
  expect(events.page).toHaveLength(1);

  const denied = { code: "FORBIDDEN" };
  expect(await rejection(bob.as.query(api.adminLimits.messageStats, {}))).toMatchObject(denied);
  expect(
    await rejection(
      bob.as.mutation(api.adminLimits.blockSender, { sender: admin.id, minutes: 5, reason: "x" }),
    ),
  ).toMatchObject(denied);
  expect(
    await rejection(
      bob.as.query(api.adminLimits.blockedSenders, {
        paginationOpts: { numItems: 10, cursor: null },
      }),
    ),
  ).toMatchObject(denied);
  const bad = { code: "INVALID_ARGUMENT" };
  expect(
    await rejection(
      admin.as.mutation(api.adminLimits.blockSender, { sender: bob.id, minutes: 0, reason: "x" }),
    ),
  ).toMatchObject(bad);
  expect(
    await rejection(
      admin.as.mutation(api.adminLimits.blockSender, { sender: bob.id, minutes: 5, reason: "" }),
    ),
  ).toMatchObject(bad);
  expect(await rejection(admin.as.query(api.adminLimits.messageStats, { hours: 0 }))).toMatchObject(
    bad,
  );
});
