/**
 * Out-of-band delivery of confirmation codes (email, SMS, a chat webhook).
 *
 * Called from ACTIONS only, after the code was issued by `runMutation`: the
 * code travels in the mutation's return value and this function's request,
 * never in `ctx.scheduler` arguments (Convex keeps those for days) and never
 * in a table, log line or audit event.
 */

/** Development-only outbox: enabled with GUARD_DEV_OUTBOX=1 (tests and `npm run demo`). */
export const devOutbox: Array<{ to: string; text: string }> = [];

export async function deliverOutOfBand(to: string, text: string): Promise<void> {
  const webhook = process.env.CODE_WEBHOOK_URL;
  if (webhook) {
    const res = await fetch(webhook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to, text }),
    });
    if (!res.ok) throw new Error(`code delivery failed: HTTP ${res.status}`);
    return;
  }
  if (process.env.GUARD_DEV_OUTBOX === "1") {
    devOutbox.push({ to, text });
    return;
  }
  throw new Error(
    "No code delivery channel: set CODE_WEBHOOK_URL (or GUARD_DEV_OUTBOX=1 in development).",
  );
}
