/**
 * The app's convex-guard clients, built once from `components.guard`. This is
 * the ONLY file that touches `components`: public functions reach the
 * component through these typed clients, inside their own transactions, and
 * never hand a component function reference to a client.
 */
import {
  Access,
  ApiKeys,
  AuditLog,
  Confirmations,
  HOUR,
  MINUTE,
  RateLimiter,
  defineRules,
} from "convex-guard";
import { v } from "convex/values";
import { components } from "../_generated/api.js";
import type { DataModel, Doc } from "../_generated/dataModel.js";
import { accountOf } from "./accounts.js";

export const limiter = new RateLimiter(components.guard, {
  // Per user: 5 messages in any rolling minute (approximate sliding window, one document per user).
  // Usage stats on: the admin page (adminLimits.ts) shows who is refused, and how often.
  sendMessage: { kind: "sliding window", rate: 5, period: MINUTE, stats: true },
  // Whole app: a sharded token bucket so hot traffic spreads over 4 documents.
  globalMessages: { kind: "token bucket", rate: 1_000, period: MINUTE, capacity: 200, shards: 4 },
  // Whole app: at most 100 new accounts per hour.
  signUp: { kind: "fixed window", rate: 100, period: HOUR },
  // Per account: 5 failed logins in any 15 minutes, counted exactly; reset on success.
  failedLogins: { kind: "sliding window", rate: 5, period: 15 * MINUTE, precision: "exact" },
});

export const audit = new AuditLog(components.guard, {
  actions: {
    "user.signUp": v.object({}),
    "user.setRole": v.object({ from: v.string(), to: v.string() }),
    "user.delete": v.object({ reason: v.string() }),
    "auth.login": v.object({ email: v.string() }),
    "message.remove": v.object({ reason: v.string() }),
  },
  // Stored as salted commitments: erasable later, while the log still verifies.
  redact: ["metadata.email", "context.ip"],
  retention: { days: 365 },
});

/**
 * Secrets rotated away from, still accepted for codes issued before the
 * rotation (comma-separated `GUARD_PREVIOUS_SECRETS`; empty when unset). To
 * rotate: move GUARD_SECRET into it, set a new GUARD_SECRET, and clear it
 * once the longest ttl (10 minutes here) has passed.
 */
function previousGuardSecrets(): string[] {
  const list = process.env.GUARD_PREVIOUS_SECRETS ?? "";
  return list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Confirmation codes. The HMAC key comes from the deployment's environment
 * (`npx convex env set GUARD_SECRET "$(openssl rand -hex 32)"`); tests and the
 * demo set `process.env.GUARD_SECRET` themselves. Built at module level like
 * every other client: the secret is read on first use, so a push whose
 * analysis runs without it still loads, and the first `issue` or `consume`
 * without it throws INVALID_CONFIG naming the variable. The secret stays in
 * this app's functions: the component sees only MACs, never a code.
 */
export const confirmations = new Confirmations(components.guard, {
  secret: process.env.GUARD_SECRET,
  previousSecrets: previousGuardSecrets(),
  digits: 8,
  ttl: 10 * MINUTE,
  maxAttempts: 5,
  issueLimit: { rate: 5, period: 10 * MINUTE },
  failureLimit: { rate: 10, period: HOUR },
  // Records issue, failure, lockout and consume as guard.confirmation.* events (never the code).
  audit,
});

/**
 * Keys for the app's own servers (the login server calling http.ts, a
 * moderation worker calling service.ts). Superadmins create, rotate and revoke
 * them (apiKeys.ts); each key is rate-limited on its own and every denial is
 * audited (guard.apiKey.deny). No shared secret exists anywhere.
 */
export const serviceKeys = new ApiKeys(components.guard, {
  prefix: "sk_example",
  scopes: ["login:verify", "messages:moderate"],
  limit: { kind: "sliding window", rate: 30, period: MINUTE },
  audit,
});
export type ServiceScope = "login:verify" | "messages:moderate";

/** Roles that hold `messages.moderate` (below): the message rules let them read and delete anyone's message. */
const MODERATING_ROLES: ReadonlySet<Doc<"users">["role"]> = new Set([
  "moderator",
  "admin",
  "superadmin",
]);
const moderates = (account: Doc<"users"> | null | undefined) =>
  account != null && MODERATING_ROLES.has(account.role);

/**
 * The app's roles, weakest first: each inherits the permissions of the one
 * before it. Functions check permissions, not roles, so moving a capability
 * between roles is a one-line change here. Every public function is built
 * with these wrappers (lib/functions.ts).
 *
 * `profile` is the caller's `users` row, looked up by the verified
 * tokenIdentifier (one indexed read per call, whatever else the call checks):
 * it is `ctx.user` in the handlers, the source of the role (`roleOf` reads its
 * `role`, no further read) and what the row rules compare a message's
 * `author` with. So `messages` need no ownership check in the functions: the
 * wrapped `ctx.db` answers another user's message as a missing one and
 * refuses to change it. `users` stays public: sign-up checks an email against
 * every account and the admin functions read other accounts, each behind its
 * permission check; a user's own-row writes go to `ctx.user._id`.
 */
export const appAccess = new Access(components.guard, {
  roles: {
    user: { permissions: [] },
    moderator: { inherits: ["user"], permissions: ["messages.moderate"] },
    admin: { inherits: ["moderator"], permissions: ["audit.read", "limits.manage"] },
    superadmin: {
      inherits: ["admin"],
      permissions: ["users.setRole", "users.delete", "apiKeys.manage"],
    },
  },
  profile: async (ctx, actor) => (actor.type === "user" ? accountOf(ctx, actor.id) : null),
  roleOf: (_ctx, actor) => actor.profile?.role ?? null,
  rules: defineRules<DataModel, Doc<"users">>({
    messages: {
      // An author reads their own messages; moderators read any (to judge a report).
      read: (actor, m) => m.author === actor.profile?._id || moderates(actor.profile),
      // An author edits their own (keeping the author) and deletes them; moderators delete any.
      write: (actor, old, next) =>
        next === null
          ? old.author === actor.profile?._id || moderates(actor.profile)
          : old.author === actor.profile?._id && next.author === old.author,
      insert: (actor, m) => m.author === actor.profile?._id,
    },
  }),
  public: ["users"],
  audit,
});

/**
 * Team notes (teams.ts): roles held per team (the scope), granted and
 * revoked through the component with an expiry, and row rules that let an
 * author read and write only their own notes. Every denied team mutation is
 * an audit event (`guard.access.deny`, on the audit page), and an actor
 * refused 20 times in a minute is refused outright before any check.
 */
export const access = new Access(components.guard, {
  roles: {
    member: { permissions: ["notes.read", "notes.write"] },
    teamAdmin: { inherits: ["member"], permissions: ["team.manage"] },
  },
  rules: defineRules<DataModel>({
    teamNotes: {
      read: (actor, note) => note.owner === actor.id,
      write: (actor, old) => old.owner === actor.id,
      insert: (actor, note) => note.owner === actor.id,
    },
    // The account directory: a team admin looks up whom to grant a role; nobody writes it here.
    users: { read: () => true },
  }),
  audit,
  limit: { kind: "fixed window", rate: 20, period: MINUTE },
});
