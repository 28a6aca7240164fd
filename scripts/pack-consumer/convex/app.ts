import { v } from "convex/values";
import { AuditLog, Confirmations, MINUTE, RateLimiter } from "convex-guard";
import { components } from "./_generated/api.js";
import { mutation, query } from "./_generated/server.js";

// Built at module level, as the README does: the secret is read on first use.
const limiter = new RateLimiter(components.guard, {
  send: { kind: "sliding window", rate: 2, period: MINUTE },
});
const audit = new AuditLog(components.guard, {
  actions: { "message.send": v.object({ ok: v.boolean() }) },
  retention: { days: 365 },
});
// An AuditLog with typed actions is a sink for every client (checked here under
// exactOptionalPropertyTypes by pack-check).
const confirmations = new Confirmations(components.guard, {
  secret: process.env.GUARD_SECRET,
  audit,
});

export const send = mutation({
  args: { user: v.string() },
  handler: async (ctx, { user }) => {
    const r = await limiter.limit(ctx, "send", { key: user });
    await audit.log(ctx, {
      action: "message.send",
      actor: { type: "user", id: user },
      targets: [],
      outcome: r.ok ? "success" : "denied",
      metadata: { ok: r.ok },
    });
    return r.ok;
  },
});

export const recent = query({
  args: {},
  handler: async (ctx) => {
    const page = await audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } });
    return page.page.map((e) => ({ outcome: e.outcome, sealed: e.seq !== undefined }));
  },
});

export const confirmRoundTrip = mutation({
  args: { user: v.string() },
  handler: async (ctx, { user }) => {
    const issued = await confirmations.issue(ctx, {
      subject: user,
      action: "account.close",
      payload: { user },
    });
    if (!issued.ok) return false;
    const used = await confirmations.consume(ctx, {
      subject: user,
      action: "account.close",
      payload: { user },
      code: issued.code,
    });
    return used.ok;
  },
});
