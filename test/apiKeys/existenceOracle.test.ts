import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MINUTE } from "../../src/component/lib/time.js";
import { apiKeyResponse } from "../../src/client/apiKeysHttp.js";
import type { ApiKeyVerifyResult } from "../../src/client/apiKeys.js";
import { measure, rw } from "../setup.js";
import { advance, forge, partsOf, setup, useClock, wrongSecret } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

/*
 * Issue 22: after 10 wrong secrets an existing (or revoked, not yet purged)
 * key id answered `rate_limited` / 429 while an unknown id stayed `unknown` /
 * 401, so anyone could tell which key ids exist. Every presented key id now
 * has its own denial budget, known or not, read and written the same way.
 */

/** What a caller can observe: the result, the HTTP status and Retry-After. */
async function observed(r: ApiKeyVerifyResult) {
  const res = r.ok ? null : apiKeyResponse(r);
  return {
    result: r,
    status: res?.status ?? 200,
    retryAfter: res?.headers.get("retry-after") ?? null,
  };
}

describe("API-key existence oracle", () => {
  test("a wrong secret for a live or revoked key id and an unknown key id answer alike, also once the denial budget is spent", async () => {
    const s = setup();
    const live = await s.create();
    const revoked = await s.create();
    await s.revoke(revoked.keyId);
    const { prefix, secret } = partsOf(live.key);
    const guesses = {
      live: wrongSecret(live.key),
      revoked: wrongSecret(revoked.key),
      unknown: forge(prefix, "Zz0123456789abcd", secret),
    };
    // Warm: the first limiter document of the deployment also wakes the maintenance loop.
    await s.verify(forge(prefix, "W".repeat(16), secret));
    const answers: Record<string, unknown[]> = { live: [], revoked: [], unknown: [] };
    const costs: Record<string, unknown[]> = { live: [], revoked: [], unknown: [] };
    // 10 within the default budget (10 per minute), 3 beyond it.
    for (let i = 0; i < 13; i++) {
      for (const [name, key] of Object.entries(guesses)) {
        const { result, cost } = await measure(s.t, (ctx) => s.keys.verify(ctx, { key }));
        answers[name]!.push(await observed(result));
        // Reads differ by the key document itself (the lookup finds it or nothing); writes do not.
        costs[name]!.push(rw(cost).written);
      }
      advance(1);
    }
    expect(answers.revoked).toEqual(answers.live);
    expect(answers.unknown).toEqual(answers.live);
    expect(costs.revoked).toEqual(costs.live);
    expect(costs.unknown).toEqual(costs.live);
    expect(answers.live!.slice(0, 10)).toEqual(
      Array(10).fill({ result: { ok: false, reason: "unknown" }, status: 401, retryAfter: null }),
    );
    expect(answers.live!.slice(10)).toEqual(
      Array(3).fill({
        result: { ok: false, reason: "rate_limited", retryAfter: expect.any(Number) },
        status: 429,
        retryAfter: expect.any(String),
      }),
    );
    // The right secret still verifies while its id's budget is spent.
    expect(await s.verify(live.key)).toMatchObject({ ok: true });
    // Queries count nothing and answer alike too.
    for (const key of Object.values(guesses))
      expect(await s.verifyQuery(key)).toEqual({ ok: false, reason: "unknown" });
    advance(MINUTE);
    for (const key of Object.values(guesses))
      expect(await s.verify(key)).toEqual({ ok: false, reason: "unknown" });
  });

  test("each presented key id has its own budget: spending one leaves another unknown id at 401", async () => {
    const s = setup({ denialLimit: { rate: 2, period: MINUTE } });
    const { key } = await s.create();
    const { prefix, secret } = partsOf(key);
    const a = forge(prefix, "A".repeat(16), secret);
    const b = forge(prefix, "B".repeat(16), secret);
    for (let i = 0; i < 2; i++) expect(await s.verify(a)).toEqual({ ok: false, reason: "unknown" });
    expect(await s.verify(a)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await s.verify(b)).toEqual({ ok: false, reason: "unknown" });
    const denials = s.events.filter((e) => e.action === "guard.apiKey.deny");
    expect(denials.map((e) => e.reason)).toEqual(["unknown_key", "unknown_key", "unknown_key"]);
  });
});
