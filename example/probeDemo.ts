/// <reference types="vite/client" />
/**
 * The probe step of `npm run demo`: a first draft of `getMessage` that
 * forgets the author check, probed beside the app's real one. The draft lives
 * here, added to the modules map for the probe only: it is not part of the app.
 */
import { convexTest } from "convex-test";
import { probeAccess, register, type ProbeReport } from "convex-guard/test";
import { ConvexError, v } from "convex/values";
import { query } from "./convex/_generated/server.js";
import schema from "./convex/schema.js";
import { modules, newApp } from "./harness.js";

/** Signed-in callers only, but any message by id: the author check is missing. */
const getMessage = query({
  args: { messageId: v.id("messages") },
  handler: async (ctx, { messageId }) => {
    if ((await ctx.auth.getUserIdentity()) === null)
      throw new ConvexError({ code: "UNAUTHENTICATED", message: "Sign in first." });
    return (await ctx.db.get("messages", messageId))?.body ?? null;
  },
});

const withDraft = { ...modules, "./convex/draft.ts": async () => ({ getMessage }) };

function appWithDraft() {
  const t = convexTest(schema, withDraft);
  register(t);
  return t;
}

/** The draft's report and the real function's report. */
export async function probeDraftAndFix(): Promise<{ draft: ProbeReport; fixed: ProbeReport }> {
  const draft = await probeAccess(appWithDraft, {
    modules: withDraft,
    schema,
    only: ["draft:getMessage"],
  });
  const fixed = await probeAccess(newApp, { modules, schema, only: ["messages:getMessage"] });
  return { draft, fixed };
}
