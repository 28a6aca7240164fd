import { Confirmations } from "convex-guard";
import { components } from "./_generated/api.js";
import { mutation } from "./_generated/server.js";

// A variable no deployment sets: the module still loads (as a push's analysis
// loads it), and the first call that needs the secret says what to do.
const confirmations = new Confirmations(components.guard, {
  secret: process.env.GUARD_SECRET_NEVER_SET,
});

export const issue = mutation({
  args: {},
  handler: (ctx) => confirmations.issue(ctx, { subject: "u1", action: "account.close" }),
});
