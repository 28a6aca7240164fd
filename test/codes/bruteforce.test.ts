import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { DAY, HOUR, MINUTE } from "../../src/component/lib/time.js";
import { MIN_DIGITS } from "../../src/component/codes/rules.js";
import { setup, useClock } from "./helpers.js";

/*
 * An attacker who can trigger `issue` for a victim's (subject, action) and
 * submit guesses, for one simulated day, re-issuing whenever allowed and
 * guessing as fast as allowed. The API allows no fewer than 6 digits, so a
 * success is too rare to measure directly; instead the test measures the
 * number of guesses the component actually evaluated (the attempts allowed),
 * turns it into the bound attempts / 10^digits, checks that attempts never
 * exceed what the limits promise, and checks the measured successes against
 * the bound.
 */

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

const CONFIG = {
  digits: MIN_DIGITS, // the weakest format the API allows: the attacker's best case
  ttl: 10 * MINUTE,
  maxAttempts: 5,
  issueLimit: { rate: 5, period: 10 * MINUTE },
  failureLimit: { rate: 10, period: HOUR },
};

test("brute force for a simulated day stays within attempts allowed / 10^digits", async () => {
  const s = setup({ ...CONFIG, audit: undefined });
  const end = Date.now() + DAY;
  let evaluated = 0; // guesses the component compared against a code
  let successes = 0;
  let issued = 0;
  let refused = 0; // guesses answered without evaluation (locked, failure budget spent)
  const guess = () =>
    String(Math.floor(Math.random() * 10 ** CONFIG.digits)).padStart(CONFIG.digits, "0");
  const wait = (ms: number) => vi.setSystemTime(Math.min(end, Date.now() + Math.max(1, ms)));

  while (Date.now() < end) {
    // Re-issue before every guess, whenever the limits allow: a fresh code must not mean fresh tries.
    const r = await s.issue("victim", "user.deleteAll", { userId: "victim" });
    if (r.ok) issued++;
    const c = await s.consume("victim", "user.deleteAll", { userId: "victim" }, guess());
    if (c.ok) {
      successes++;
      evaluated++;
    } else if (c.reason === "invalid" || c.reason === "mismatch") {
      evaluated++;
    } else {
      refused++;
      wait(c.retryAfter ?? (r.ok ? MINUTE : r.retryAfter));
    }
  }

  const space = 10 ** CONFIG.digits;
  const bound = evaluated / space;
  // The failure limit admits at most `rate` failures in any window of `period`: 24 windows in a day.
  const promised = CONFIG.failureLimit.rate * (DAY / CONFIG.failureLimit.period) + successes;
  console.log(
    `brute force, ${CONFIG.digits} digits, 1 simulated day: codes issued ${issued}, guesses evaluated ${evaluated} ` +
      `(limit promises at most ${promised}), refused unevaluated ${refused}; ` +
      `bound on successes = ${evaluated}/10^${CONFIG.digits} = ${bound.toExponential(2)}; measured successes = ${successes}`,
  );
  expect(evaluated).toBeLessThanOrEqual(promised);
  expect(evaluated).toBeGreaterThan(0.9 * promised); // the attacker really did use the allowance
  // P(>= 2 successes) with mean 2.4e-4 is about 3e-8: one success is possible, two means a broken bound.
  expect(successes).toBeLessThanOrEqual(1);
});

test("without a failure limit, the per-code lockout still caps guesses at maxAttempts per ttl", async () => {
  // Without the failure limit the per-code lockout would still cap a day at
  // maxAttempts per ttl: re-issuing carries the count, so only expiry grants new tries.
  const s = setup({ ...CONFIG, failureLimit: { rate: 1000, period: HOUR }, audit: undefined });
  const end = Date.now() + 6 * HOUR;
  let evaluated = 0;
  while (Date.now() < end) {
    const st = await s.status("victim", "x");
    if (!st.pending) {
      const r = await s.issue("victim", "x");
      if (!r.ok) {
        vi.setSystemTime(Math.min(end, Date.now() + r.retryAfter));
        continue;
      }
    }
    const c = await s.consume("victim", "x", undefined, "000000");
    if (c.ok || c.reason === "invalid") evaluated++;
    else vi.setSystemTime(Math.min(end, Date.now() + (c.retryAfter ?? MINUTE)));
  }
  const promised = CONFIG.maxAttempts * ((6 * HOUR) / CONFIG.ttl);
  console.log(
    `per-code lockout only, 6 simulated hours: guesses evaluated ${evaluated}, at most ${promised} promised`,
  );
  expect(evaluated).toBeLessThanOrEqual(promised);
});
