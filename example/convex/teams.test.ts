/// <reference types="vite/client" />
/**
 * Team notes through convex-guard's Access: scoped roles with an expiring
 * grant, row rules (a foreign note reads as a missing one), and denied
 * mutations on the audit page.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { addUser, newApp, rejection } from "../harness.js";
import { api, internal } from "./_generated/api.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.UTC(2026, 0, 5, 9));
});
afterEach(() => vi.useRealTimers());

async function team() {
  const t = newApp();
  const alice = await addUser(t, "alice");
  const bob = await addUser(t, "bob");
  const ada = await addUser(t, "ada", "admin");
  await t.mutation(internal.teams.bootstrapTeamAdmin, {
    team: "acme",
    email: ada.email,
    minutes: 60,
  });
  return { t, alice, bob, ada };
}

describe("team notes", () => {
  test("a team admin grants a member; another user's note answers exactly like a missing one", async () => {
    const { t, alice, bob, ada } = await team();
    expect(
      await ada.as.mutation(api.teams.grantTeamRole, {
        team: "acme",
        userId: alice.id,
        role: "member",
      }),
    ).toEqual({ ok: true });
    const noteId = await alice.as.mutation(api.teams.addNote, { team: "acme", body: "plans" });
    expect(typeof noteId).toBe("string");
    const gone = await alice.as.mutation(api.teams.addNote, { team: "acme", body: "gone" });
    await t.run((ctx) => ctx.db.delete("teamNotes", gone as never));
    expect(await alice.as.query(api.teams.getNote, { noteId: noteId as string })).toMatchObject({
      body: "plans",
    });
    const foreign = await rejection(bob.as.query(api.teams.getNote, { noteId: noteId as string }));
    expect(foreign).toEqual(
      await rejection(bob.as.query(api.teams.getNote, { noteId: gone as string })),
    );
    expect(foreign).toEqual({ code: "NOT_FOUND", message: "No such note." });
    // Bob holds no role in acme: he cannot even list his own notes there.
    expect(await rejection(bob.as.query(api.teams.myNotes, { team: "acme" }))).toMatchObject({
      code: "FORBIDDEN",
    });
  });

  test("a member refused an admin function: returned, and on the audit page", async () => {
    const { alice, ada } = await team();
    await ada.as.mutation(api.teams.grantTeamRole, {
      team: "acme",
      userId: alice.id,
      role: "member",
    });
    expect(
      await alice.as.mutation(api.teams.grantTeamRole, {
        team: "acme",
        userId: alice.id,
        role: "teamAdmin",
      }),
    ).toEqual({ ok: false, reason: "forbidden" });
    const page = await ada.as.query(api.auditDashboard.list, {
      action: "guard.access.deny",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page.map((e) => [e.actor.name, e.reason, e.targets[0]?.id, e.metadata])).toEqual([
      ["alice", "forbidden", "team.manage", { scope: "acme", permission: "team.manage" }],
    ]);
  });

  test("the admin grant expires: an hour later the same call is refused", async () => {
    const { alice, ada } = await team();
    const ok = { team: "acme", userId: alice.id, role: "member" as const, minutes: 120 };
    expect(await ada.as.mutation(api.teams.grantTeamRole, ok)).toMatchObject({ ok: true });
    vi.setSystemTime(Date.now() + 60 * 60_000);
    expect(await ada.as.mutation(api.teams.grantTeamRole, ok)).toEqual({
      ok: false,
      reason: "forbidden",
    });
    // Alice's own 2-hour grant still holds.
    expect(
      await alice.as.mutation(api.teams.addNote, { team: "acme", body: "still here" }),
    ).toEqual(expect.any(String));
  });
});
