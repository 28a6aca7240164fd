/**
 * `npm run demo`: drives the example app (example/convex) through convex-test,
 * the embedded Convex runtime, on a fake clock, and prints what happens. Each
 * step checks what it shows; the exit code is 0 only if every step behaved as
 * expected. No Convex account or deployment is needed.
 */
import FakeTimers from "@sinonjs/fake-timers";
import type { AuditVerifyResult } from "convex-guard";
import { addUser, lastDeliveredCode, newApp, runInGuard, type App } from "./harness.js";
import { api, internal } from "./convex/_generated/api.js";
import { probeDraftAndFix } from "./probeDemo.js";

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

class Expectation extends Error {}
function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Expectation(what);
}

const secs = (ms: number) =>
  ms < 2 * 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);
/** A result as a reader wants it: no internal ids, `key: value` spacing. */
const show = (r: object) => {
  const { codeId: _codeId, ...rest } = r as Record<string, unknown>;
  const first = ["ok", "reason", "attemptsLeft", "retryAfter"].filter((k) => k in rest);
  const ordered = Object.fromEntries(
    [...first, ...Object.keys(rest).filter((k) => !first.includes(k))].map((k) => [k, rest[k]]),
  );
  return JSON.stringify(ordered)
    .replace(/"(\w+)":/g, "$1: ")
    .replace(/,/g, ", ")
    .replace(/^\{/, "{ ")
    .replace(/\}$/, " }");
};
const errorCode = (e: unknown) => (e as { data?: { code?: string } }).data?.code ?? String(e);

async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return errorCode(e);
  }
  return "(no error)";
}

export async function main(): Promise<number> {
  const clock = FakeTimers.install({
    now: START,
    toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"],
  });
  let passed = 0;
  let failed = 0;
  const t: App = newApp();

  /** Moves the fake clock in bounded steps and lets due scheduled functions run (the guard's maintenance loop never ends, so never "run all"). */
  async function advance(ms: number) {
    const target = Date.now() + ms;
    while (Date.now() < target) {
      await clock.tickAsync(Math.min(1000, target - Date.now()));
      await t.finishInProgressScheduledFunctions();
    }
  }

  async function step(title: string, body: () => Promise<string | string[] | void>) {
    const stamp = dim(`[${clockTime(Date.now())}]`);
    try {
      const detail = await body();
      passed++;
      console.log(`  ${green("✓")} ${stamp} ${title}`);
      for (const line of [detail ?? []].flat()) console.log(`      ${line}`);
    } catch (e) {
      failed++;
      console.log(`  ${red("✗")} ${stamp} ${title}`);
      console.log(
        `      ${red(e instanceof Expectation ? `expected: ${e.message}` : `error: ${String((e as Error).stack ?? e)}`)}`,
      );
    }
  }

  try {
    console.log(
      `convex-guard demo: the example app in convex-test on a fake clock (${new Date(START).toISOString()})\n`,
    );

    const alice = await addUser(t, "alice");
    const bob = await addUser(t, "bob");
    const carol = await addUser(t, "carol");
    const mod = await addUser(t, "mo", "moderator");
    const ada = await addUser(t, "ada", "admin");
    const root = await addUser(t, "root", "superadmin");
    console.log(
      dim("  users: alice, bob, carol (user), mo (moderator), ada (admin), root (superadmin)\n"),
    );
    const names = new Map<string, string>(
      Object.entries({ alice, bob, carol, mo: mod, ada, root }).map(([name, u]) => [
        u.id as string,
        name,
      ]),
    );
    const who = (s: { type: string; id: string; name?: string }) =>
      `${s.type}:${s.name ?? names.get(s.id) ?? (s.id.length > 16 ? `${s.id.slice(0, 8)}…` : s.id)}`;

    // ---------------------------------------------------------------- rate limits
    console.log(
      "Rate limits (sendMessage: 5 per rolling minute per user, plus an app-wide bucket)",
    );
    let retryAfter = 0;
    await step("alice sends 5 messages in 20 seconds: all admitted", async () => {
      for (let i = 1; i <= 5; i++) {
        const r = await alice.as.mutation(api.messages.sendMessage, { body: `hello #${i}` });
        expect(r.ok, `message ${i} admitted`);
        await advance(4_000);
      }
    });
    await step("her 6th message is denied, with the exact time to wait", async () => {
      const r = await alice.as.mutation(api.messages.sendMessage, { body: "one more" });
      expect(!r.ok, "denied");
      retryAfter = r.retryAfter;
      expect(retryAfter > 0 && retryAfter <= 60_000, "0 < retryAfter ≤ 1 minute");
      return `{ ok: false, retryAfter: ${retryAfter} }  → retry in ${secs(retryAfter)}`;
    });
    await step("the window slides: after retryAfter she is admitted again", async () => {
      await advance(retryAfter);
      const r = await alice.as.mutation(api.messages.sendMessage, { body: "back again" });
      expect(r.ok, "admitted after waiting retryAfter");
      return `waited ${secs(retryAfter)} → { ok: true }`;
    });
    await step("bob has his own window: admitted while alice is limited", async () => {
      const denied = await alice.as.mutation(api.messages.sendMessage, { body: "still too fast" });
      const r = await bob.as.mutation(api.messages.sendMessage, { body: "hi, I'm bob" });
      expect(!denied.ok && r.ok, "alice denied, bob admitted");
    });

    // ---------------------------------------------------------------- access control
    console.log("\nAccess control");
    await step("an anonymous caller is rejected", async () => {
      const code = await rejectionCode(
        t.query(api.messages.listMyMessages, { paginationOpts: { numItems: 5, cursor: null } }),
      );
      expect(code === "UNAUTHENTICATED", `UNAUTHENTICATED, got ${code}`);
      return "listMyMessages without a token → UNAUTHENTICATED";
    });
    await step("bob cannot read alice's message by its id (IDOR)", async () => {
      const mine = await alice.as.query(api.messages.listMyMessages, {
        paginationOpts: { numItems: 1, cursor: null },
      });
      const [first] = mine.page;
      if (first === undefined) throw new Error("alice has no message");
      const messageId = first._id;
      const code = await rejectionCode(bob.as.query(api.messages.getMessage, { messageId }));
      expect(code === "NOT_FOUND", `NOT_FOUND, got ${code}`);
      return "getMessage(<alice's message id>) as bob → NOT_FOUND, same as a missing message";
    });

    // ---------------------------------------------------------------- team notes (Access)
    console.log(
      "\nTeam notes (convex-guard Access: roles per team with expiry, row rules, audited denials)",
    );
    let noteId = "";
    await step(
      "root makes ada team admin of acme for 2 minutes (a stored, scoped grant)",
      async () => {
        const expiresAt = await t.mutation(internal.teams.bootstrapTeamAdmin, {
          team: "acme",
          email: ada.email,
          minutes: 2,
        });
        return `bootstrapTeamAdmin → grant { role: teamAdmin, scope: acme, expiresAt: ${clockTime(expiresAt)} }`;
      },
    );
    await step("ada makes alice a member of acme; alice adds a note", async () => {
      const r = await ada.as.mutation(api.teams.grantTeamRole, {
        team: "acme",
        userId: alice.id,
        role: "member",
      });
      expect(!("reason" in r), `granted, got ${show(r)}`);
      const created = await alice.as.mutation(api.teams.addNote, {
        team: "acme",
        body: "launch plan",
      });
      expect(typeof created === "string", `a note id, got ${JSON.stringify(created)}`);
      noteId = created;
      return "grantTeamRole(alice, member, acme) → { ok: true }; addNote → a note id";
    });
    await step(
      "bob probes alice's note by its id: not found, as for a note that never existed",
      async () => {
        const foreign = await rejectionCode(bob.as.query(api.teams.getNote, { noteId }));
        const missing = await rejectionCode(bob.as.query(api.teams.getNote, { noteId: "nope" }));
        expect(
          foreign === "NOT_FOUND" && missing === "NOT_FOUND",
          `NOT_FOUND twice, got ${foreign}, ${missing}`,
        );
        return "getNote(<alice's note>) as bob → NOT_FOUND; getNote(<no such id>) → NOT_FOUND";
      },
    );
    await step("alice, a member, calls an admin function: refused and audited", async () => {
      const r = await alice.as.mutation(api.teams.grantTeamRole, {
        team: "acme",
        userId: alice.id,
        role: "teamAdmin",
      });
      expect("reason" in r && r.reason === "forbidden", `forbidden, got ${show(r)}`);
      const page = await ada.as.query(api.auditDashboard.list, {
        action: "guard.access.deny",
        paginationOpts: { numItems: 1, cursor: null },
      });
      const e = page.page[0];
      expect(e?.actor.name === "alice", "a guard.access.deny event by alice");
      return [
        `grantTeamRole as alice → ${show(r)}`,
        `audit page: ${e.action} by ${who(e.actor)}, reason ${e.reason}, target ${e.targets[0]?.type}:${e.targets[0]?.id}`,
      ];
    });
    await step("2 minutes later ada's grant has expired: the same call is refused", async () => {
      await advance(2 * 60_000);
      const r = await ada.as.mutation(api.teams.grantTeamRole, {
        team: "acme",
        userId: bob.id,
        role: "member",
      });
      expect("reason" in r && r.reason === "forbidden", `forbidden, got ${show(r)}`);
      return `grantTeamRole as ada → ${show(r)}`;
    });

    // ---------------------------------------------------------------- service API keys
    console.log(
      "\nService API keys (the login server calls POST /service/verify-password with its own key; 30 calls a minute per key)",
    );
    await alice.as.mutation(api.users.setMyPassword, { password: "correct horse battery" });
    const masked = (key: string) => `${key.slice(0, 30)}…`;
    const login = async (password: string, key: string, email = alice.email) => {
      const res = await t.fetch("/service/verify-password", {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ email, password }),
      });
      return {
        status: res.status,
        body: await res.json(),
        retryAfter: res.headers.get("retry-after"),
      };
    };
    let loginKey = { keyId: "", key: "" };
    await step(
      "root creates a key for the login server: shown once, stored as a digest",
      async () => {
        loginKey = await root.as.mutation(api.apiKeys.createKey, {
          name: "login server",
          scopes: ["login:verify"],
        });
        expect(
          /^sk_example_[0-9A-Za-z]{16}_[0-9A-Za-z]{49}$/.test(loginKey.key),
          "a well-formed key",
        );
        const stored = await runInGuard(t, async (ctx) =>
          JSON.stringify(await ctx.db.query("apiKeys").collect()),
        );
        expect(!stored.includes(loginKey.key.slice(-49, -6)), "no table holds the secret");
        const listed = await root.as.query(api.apiKeys.listKeys, {
          paginationOpts: { numItems: 5, cursor: null },
        });
        expect(!JSON.stringify(listed).includes("sk_example_"), "listKeys returns metadata only");
        return [
          `createKey → ${masked(loginKey.key)} (the only time it exists in plaintext)`,
          `listKeys → ${show({ name: listed.page[0]?.name, state: listed.page[0]?.state, scopes: listed.page[0]?.scopes })}`,
        ];
      },
    );
    await step("the login server verifies alice's password with its key", async () => {
      const r = await login("correct horse battery", loginKey.key);
      expect(
        r.status === 200 && r.body.ok === true,
        `200 ok, got ${r.status} ${JSON.stringify(r.body)}`,
      );
      return `Authorization: Bearer ${masked(loginKey.key)} → 200 { ok: true, userId: <alice> }`;
    });
    await step("a mistyped key is refused without a database read", async () => {
      const typo = loginKey.key.slice(0, -1) + (loginKey.key.endsWith("x") ? "y" : "x");
      const r = await login("correct horse battery", typo);
      expect(r.status === 401, `401, got ${r.status}`);
      return `one character off (checksum) → ${r.status} ${show(r.body)}`;
    });
    let lockedFor = 0;
    await step("5 wrong passwords lock alice's login, even for the right password", async () => {
      const reasons: string[] = [];
      for (let i = 0; i < 5; i++) reasons.push((await login("hunter2", loginKey.key)).body.reason);
      expect(
        reasons.every((x) => x === "invalid"),
        "5 × invalid",
      );
      const r = await login("correct horse battery", loginKey.key);
      expect(r.body.reason === "locked", `locked, got ${JSON.stringify(r.body)}`);
      lockedFor = r.body.retryAfter;
      return [
        `wrong × 5 → ${reasons.join(", ")}`,
        `right password → locked, retry in ${secs(lockedFor)}`,
      ];
    });
    await step(
      "when the oldest failure leaves the window, the right password works again",
      async () => {
        await advance(lockedFor);
        const r = await login("correct horse battery", loginKey.key);
        expect(r.status === 200 && r.body.ok === true, `ok, got ${JSON.stringify(r.body)}`);
        return `after ${secs(lockedFor)} → { ok: true, userId: <alice> }`;
      },
    );
    await step(
      "root rotates the key: both work for the 1-minute overlap, then only the new one",
      async () => {
        const next = await root.as.mutation(api.apiKeys.rotateKey, {
          keyId: loginKey.keyId,
          overlap: 60_000,
        });
        const during = [
          (await login("correct horse battery", loginKey.key)).status,
          (await login("correct horse battery", next.key)).status,
        ];
        await advance(60_000);
        const after = [
          (await login("correct horse battery", loginKey.key)).status,
          (await login("correct horse battery", next.key)).status,
        ];
        expect(
          during.join() === "200,200" && after.join() === "401,200",
          `200,200 then 401,200; got ${during} then ${after}`,
        );
        const old = loginKey.key;
        loginKey = { keyId: next.keyId, key: next.key };
        return [
          `rotateKey → ${masked(next.key)} (same key id; ${masked(old)} valid until ${clockTime(next.previousValidUntil)})`,
          `during the overlap: old → ${during[0]}, new → ${during[1]}; after: old → ${after[0]}, new → ${after[1]}`,
        ];
      },
    );
    await step(
      "a busy key is rate-limited on its own: the 31st call in a minute gets 429",
      async () => {
        const batch = await root.as.mutation(api.apiKeys.createKey, {
          name: "batch job",
          scopes: ["login:verify"],
        });
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++)
          statuses.push((await login("x", batch.key, "nobody@example.com")).status);
        const r = await login("x", batch.key, "nobody@example.com");
        expect(
          statuses.every((x) => x === 200) && r.status === 429,
          `30 × 200 then 429, got ${r.status}`,
        );
        const other = await login("correct horse battery", loginKey.key);
        expect(other.status === 200, "the login server's key is not affected");
        return [
          `batch job: 30 × 200, then → ${r.status} ${show(r.body)}, Retry-After: ${r.retryAfter} s`,
          `the login server's key meanwhile → ${other.status}`,
        ];
      },
    );
    await step("root revokes the key: refused from that transaction on, and audited", async () => {
      await root.as.mutation(api.apiKeys.revokeKey, { keyId: loginKey.keyId });
      const r = await login("correct horse battery", loginKey.key);
      expect(r.status === 401, `401, got ${r.status}`);
      const denied = await ada.as.query(api.auditDashboard.list, {
        action: "guard.apiKey.deny",
        paginationOpts: { numItems: 5, cursor: null },
      });
      expect(denied.page[0]?.reason === "revoked", "a guard.apiKey.deny event with reason revoked");
      return [
        `revoked key → ${r.status} ${show(r.body)} (the same answer as an unknown key)`,
        `audit: guard.apiKey.deny, reason ${denied.page[0].reason}, target apiKey:${denied.page[0].targets[0]?.id}`,
      ];
    });

    // ---------------------------------------------------------------- confirmation codes
    console.log(
      "\nDeleting a user takes a confirmation code (8 digits, 10 minutes, 5 attempts, bound to the user id)",
    );
    await step("ada (admin, not superadmin) cannot ask to delete anyone", async () => {
      const code = await rejectionCode(
        ada.as.action(api.admin.requestUserDeletion, { userId: bob.id }),
      );
      expect(code === "FORBIDDEN", `FORBIDDEN, got ${code}`);
      return "requestUserDeletion(bob) as ada → FORBIDDEN";
    });
    let bobCode = "";
    await step("root asks to delete bob: a code is issued", async () => {
      const r = await root.as.action(api.admin.requestUserDeletion, { userId: bob.id });
      expect(r.ok, "issued");
      bobCode = lastDeliveredCode(root.email) ?? "";
      expect(/^\d{8}$/.test(bobCode), "an 8-digit code was delivered");
      expect(!JSON.stringify(r).includes(bobCode), "the action's result holds no code");
      return `code issued, expires at ${clockTime(r.expiresAt)} (delivered out of band; stored only as an HMAC)`;
    });
    const wrong = (code: string) => (code === "00000000" ? "11111111" : "00000000");
    await step("a wrong guess is refused and counted", async () => {
      const r = await root.as.mutation(api.admin.confirmUserDeletion, {
        userId: bob.id,
        code: wrong(bobCode),
      });
      expect(!r.ok && r.reason === "invalid", `invalid, got ${JSON.stringify(r)}`);
      return `confirmUserDeletion(bob, wrong code) → ${show(r)}`;
    });
    await step("bob's code cannot delete carol: it is bound to bob's id", async () => {
      const r = await root.as.mutation(api.admin.confirmUserDeletion, {
        userId: carol.id,
        code: bobCode,
      });
      expect(!r.ok && r.reason === "mismatch", `mismatch, got ${JSON.stringify(r)}`);
      const stillThere = await t.run((ctx) => ctx.db.get(carol.id));
      expect(stillThere !== null, "carol still exists");
      return `confirmUserDeletion(carol, bob's code) → ${show(r)}`;
    });
    await step("the right code deletes bob, once", async () => {
      const r = await root.as.mutation(api.admin.confirmUserDeletion, {
        userId: bob.id,
        code: bobCode,
      });
      expect(r.ok, `ok, got ${JSON.stringify(r)}`);
      await advance(1_000); // purgeUserData runs from the scheduler
      const gone = await t.run(async (ctx) => ({
        user: await ctx.db.get(bob.id),
        messages: await ctx.db
          .query("messages")
          .withIndex("by_author", (q) => q.eq("author", bob.id))
          .collect(),
      }));
      expect(gone.user === null && gone.messages.length === 0, "bob and his messages are gone");
      const again = await root.as.mutation(api.admin.confirmUserDeletion, {
        userId: bob.id,
        code: bobCode,
      });
      expect(!again.ok, "a used code never works again");
      return [
        `confirmUserDeletion(bob, right code) → { ok: true }; bob and his messages are gone`,
        `the same code again → ${show(again)}`,
      ];
    });
    await step("five wrong guesses lock a code: then even the right one is refused", async () => {
      const r = await root.as.action(api.admin.requestUserDeletion, { userId: carol.id });
      expect(r.ok, "issued");
      const code = lastDeliveredCode(root.email) ?? "";
      const results: string[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await root.as.mutation(api.admin.confirmUserDeletion, {
          userId: carol.id,
          code: wrong(code),
        });
        results.push(
          c.ok
            ? "ok"
            : `${c.reason}${c.attemptsLeft === undefined ? "" : ` (${c.attemptsLeft} left)`}`,
        );
      }
      const right = await root.as.mutation(api.admin.confirmUserDeletion, {
        userId: carol.id,
        code,
      });
      expect(
        !right.ok && right.reason === "locked",
        `locked, got ${JSON.stringify(right)} after ${results.join(", ")}`,
      );
      expect((await t.run((ctx) => ctx.db.get(carol.id))) !== null, "carol still exists");
      return [
        `new code for carol; 5 wrong guesses → ${results.join(", ")}`,
        `the right code → ${show(right)}`,
      ];
    });

    // ---------------------------------------------------------------- audit log
    console.log("\nAudit log (append-only, sealed in Merkle batches, verifiable)");
    await step("a moderator cannot read the audit log", async () => {
      const code = await rejectionCode(
        mod.as.query(api.auditDashboard.list, { paginationOpts: { numItems: 5, cursor: null } }),
      );
      expect(code === "FORBIDDEN", `FORBIDDEN, got ${code}`);
    });
    await advance(2 * 60_000); // let the maintenance loop (idle tick: 1 minute) seal what was logged
    await step("ada reads the newest page of the log", async () => {
      const page = await ada.as.query(api.auditDashboard.list, {
        order: "desc",
        paginationOpts: { numItems: 10, cursor: null },
      });
      expect(page.page.length === 10, "10 events on the page");
      const leak = JSON.stringify(page).includes(bobCode);
      expect(!leak, "no event holds a code");
      return page.page.map((e) =>
        [
          clockTime(e.recordedAt),
          e.seq === undefined ? "  " : `#${e.seq}`.padStart(3),
          e.action.padEnd(26),
          who(e.actor).padEnd(21),
          e.outcome.padEnd(8),
          e.targets.map(who).join(" "),
        ].join("  "),
      );
    });
    await step("only deletions, filtered by action (served by an index)", async () => {
      const page = await ada.as.query(api.auditDashboard.list, {
        action: "user.delete",
        paginationOpts: { numItems: 10, cursor: null },
      });
      expect(
        page.page.length === 1 && page.page[0]?.outcome === "success",
        "one successful user.delete",
      );
      return `list({ action: "user.delete" }) → 1 event, by ${page.page[0]?.actor.name ?? page.page[0]?.actor.id}`;
    });
    /** Verifies the whole log, one bounded page per query. */
    const verifyAll = async (): Promise<AuditVerifyResult> => {
      let cursor: string | null = null;
      for (;;) {
        const r: AuditVerifyResult = await ada.as.query(api.auditDashboard.verify, { cursor });
        if (r.done) return r;
        cursor = r.cursor;
      }
    };
    await step("verify: every leaf, Merkle root and seal link checks", async () => {
      const r = await verifyAll();
      expect(r.ok && r.break === null, `ok, got ${JSON.stringify(r)}`);
      return `verify() → ok: true, ${r.checkedEvents} events in ${r.checkedSeals} seal(s), head ${r.head?.hash.slice(0, 16)}… (anchor it outside Convex)`;
    });
    let tampered = "";
    await step("tamper: rewrite one event directly in the component's table", async () => {
      tampered = await runInGuard(t, async (ctx) => {
        const target = (await ctx.db.query("auditEvents").collect()).find(
          (e: any) => e.action === "user.delete",
        );
        expect(target?.seq !== undefined, "the user.delete event is sealed");
        await ctx.db.patch(target._id, { outcome: "failure" });
        return `#${target.seq}`;
      });
      return `event ${tampered} (user.delete by root): outcome "success" → "failure", as anyone with dashboard access could`;
    });
    await step("verify catches it, at that event", async () => {
      const r = await verifyAll();
      expect(
        !r.ok && `#${r.break?.seq}` === tampered,
        `a break at event ${tampered}, got ${JSON.stringify(r)}`,
      );
      return `verify() → ok: false, break: ${JSON.stringify(r.break)}`;
    });

    // ---------------------------------------------------------------- access probe
    console.log("\nProbing access (probeAccess from convex-guard/test, in the app's own tests)");
    const probe = await probeDraftAndFix();
    await step("a draft getMessage without the author check: 1 finding", async () => {
      const [f] = probe.draft.findings;
      expect(
        probe.draft.findings.length === 1 && f?.kind === "cross_user_read",
        "one cross_user_read",
      );
      return `${f?.function}  ${f?.kind}: ${f?.detail}`;
    });
    await step("the app's getMessage (author checked): 0 findings", async () => {
      expect(probe.fixed.findings.length === 0, "no findings");
      return `${probe.fixed.calls} probe calls on ${probe.fixed.states} fresh states`;
    });
  } catch (e) {
    failed++;
    console.log(red(`  ✗ demo aborted: ${String((e as Error).stack ?? e)}`));
  } finally {
    clock.uninstall();
  }

  const summary = `demo: ${passed} passed, ${failed} failed`;
  console.log(`\n${failed === 0 ? green(summary) : red(summary)}`);
  return failed === 0 ? 0 : 1;
}
