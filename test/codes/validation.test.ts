import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ConvexError } from "convex/values";
import { Confirmations, type ConfirmationsOptions } from "../../src/client/confirmations.js";
import { DAY, MINUTE } from "../../src/component/lib/time.js";
import { components } from "../setup.js";
import { SECRET, dumpComponent, setup, useClock } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

/** The `data.code` of the ConvexError `fn` throws (or rejects with), or what went wrong instead. */
async function errorCode(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ConvexError) return (e.data as { code: string }).code;
    // Errors crossing the component boundary in convex-test may arrive re-wrapped.
    const data = (e as { data?: unknown }).data;
    if (typeof data === "object" && data !== null && "code" in data)
      return String((data as { code: unknown }).code);
    return `not a ConvexError: ${String(e)}`;
  }
  return "did not throw";
}

const big = { blob: "x".repeat(8 * 1024) };
const long = "s".repeat(257);

describe("client options → INVALID_CONFIG", () => {
  const cases: [string, Partial<ConfirmationsOptions> & Record<string, unknown>][] = [
    ["digits below 6", { digits: 5 }],
    ["digits above 12", { digits: 13 }],
    ["digits not an integer", { digits: 7.5 }],
    ["digits NaN", { digits: NaN }],
    ["digits and alphanumeric together", { digits: 8, alphanumeric: 10 }],
    ["alphanumeric below 6", { alphanumeric: 5 }],
    ["alphanumeric above 64", { alphanumeric: 65 }],
    ["ttl 0", { ttl: 0 }],
    ["ttl negative", { ttl: -MINUTE }],
    ["ttl over 24 hours", { ttl: DAY + 1 }],
    ["ttl NaN", { ttl: NaN }],
    ["ttl Infinity", { ttl: Infinity }],
    ["maxAttempts 0", { maxAttempts: 0 }],
    ["maxAttempts over 100", { maxAttempts: 101 }],
    ["maxAttempts not an integer", { maxAttempts: 2.5 }],
    ["issueLimit rate 0", { issueLimit: { rate: 0, period: MINUTE } }],
    ["issueLimit rate over 1000", { issueLimit: { rate: 1001, period: MINUTE } }],
    ["issueLimit period 0", { issueLimit: { rate: 5, period: 0 } }],
    ["failureLimit period NaN", { failureLimit: { rate: 5, period: NaN } }],
    ["failureLimit rate negative", { failureLimit: { rate: -1, period: MINUTE } }],
    ["audit without a log method", { audit: {} as never }],
  ];
  test.each(cases)("%s", async (_name, options) => {
    expect(
      await errorCode(
        () =>
          new Confirmations(components.guard, {
            secret: SECRET,
            ...options,
          } as ConfirmationsOptions),
      ),
    ).toBe("INVALID_CONFIG");
  });
});

describe("client calls: bad input throws before any state change", () => {
  const s = setup();
  const cases: [string, string, (ctx: any) => Promise<unknown>][] = [
    [
      "issue: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => s.c.issue(ctx, { subject: "", action: "x" }),
    ],
    [
      "issue: empty action",
      "INVALID_ARGUMENT",
      (ctx) => s.c.issue(ctx, { subject: "a", action: "" }),
    ],
    [
      "issue: subject over 256 bytes",
      "TOO_LARGE",
      (ctx) => s.c.issue(ctx, { subject: long, action: "x" }),
    ],
    [
      "issue: action over 256 bytes",
      "TOO_LARGE",
      (ctx) => s.c.issue(ctx, { subject: "a", action: long }),
    ],
    [
      "issue: payload over 8 KB",
      "TOO_LARGE",
      (ctx) => s.c.issue(ctx, { subject: "a", action: "x", payload: big }),
    ],
    [
      "consume: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => s.c.consume(ctx, { subject: "", action: "x", code: "1" }),
    ],
    [
      "consume: empty action",
      "INVALID_ARGUMENT",
      (ctx) => s.c.consume(ctx, { subject: "a", action: "", code: "1" }),
    ],
    [
      "consume: payload over 8 KB",
      "TOO_LARGE",
      (ctx) => s.c.consume(ctx, { subject: "a", action: "x", payload: big, code: "1" }),
    ],
    [
      "consume: code not a string",
      "INVALID_ARGUMENT",
      (ctx) => s.c.consume(ctx, { subject: "a", action: "x", code: 123 as never }),
    ],
    [
      "consume: code over 256 bytes",
      "TOO_LARGE",
      (ctx) => s.c.consume(ctx, { subject: "a", action: "x", code: "1".repeat(257) }),
    ],
    [
      "status: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => s.c.status(ctx, { subject: "", action: "x" }),
    ],
    [
      "revoke: empty action",
      "INVALID_ARGUMENT",
      (ctx) => s.c.revoke(ctx, { subject: "a", action: "" }),
    ],
  ];
  test.each(cases)("%s → %s", async (_name, code, call) => {
    expect(await errorCode(() => s.t.mutation(call))).toBe(code);
  });
});

describe("component functions (the trust boundary) validate too", () => {
  const s = setup();
  const issue = components.guard.codes.issue;
  const consume = components.guard.codes.consume;
  const mac = "ab".repeat(32);
  const macs = { codeMac: mac, payloadMac: mac };
  const okIssue = {
    subject: "a",
    action: "x",
    ...macs,
    ttl: MINUTE,
    grace: DAY,
    maxAttempts: 5,
    issueLimit: { rate: 5, period: MINUTE },
  };
  const okConsume = {
    subject: "a",
    action: "x",
    candidates: [macs],
    failureLimit: { rate: 5, period: MINUTE },
  };
  const cases: [string, string, (ctx: any) => Promise<unknown>][] = [
    [
      "issue: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(issue, { ...okIssue, subject: "" }),
    ],
    [
      "issue: empty action",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(issue, { ...okIssue, action: "" }),
    ],
    [
      "issue: codeMac not hex",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(issue, { ...okIssue, codeMac: "12345678" }),
    ],
    [
      "issue: payloadMac upper-case hex",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(issue, { ...okIssue, payloadMac: mac.toUpperCase() }),
    ],
    ["issue: ttl 0", "INVALID_CONFIG", (ctx) => ctx.runMutation(issue, { ...okIssue, ttl: 0 })],
    [
      "issue: ttl over 24 h",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(issue, { ...okIssue, ttl: DAY + 1 }),
    ],
    ["issue: ttl NaN", "INVALID_CONFIG", (ctx) => ctx.runMutation(issue, { ...okIssue, ttl: NaN })],
    [
      "issue: grace negative",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(issue, { ...okIssue, grace: -1 }),
    ],
    [
      "issue: grace over 7 days",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(issue, { ...okIssue, grace: 7 * DAY + 1 }),
    ],
    [
      "issue: maxAttempts 0",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(issue, { ...okIssue, maxAttempts: 0 }),
    ],
    [
      "issue: issueLimit rate 0",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(issue, { ...okIssue, issueLimit: { rate: 0, period: MINUTE } }),
    ],
    [
      "consume: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(consume, { ...okConsume, subject: "" }),
    ],
    [
      "consume: no candidates",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(consume, { ...okConsume, candidates: [] }),
    ],
    [
      "consume: six candidates",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(consume, { ...okConsume, candidates: Array(6).fill(macs) }),
    ],
    [
      "consume: a candidate's codeMac too short",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(consume, { ...okConsume, candidates: [{ ...macs, codeMac: "ab" }] }),
    ],
    [
      "consume: failureLimit period 0",
      "INVALID_CONFIG",
      (ctx) => ctx.runMutation(consume, { ...okConsume, failureLimit: { rate: 5, period: 0 } }),
    ],
    [
      "status: empty action",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runQuery(components.guard.codes.status, { subject: "a", action: "" }),
    ],
    [
      "revoke: empty subject",
      "INVALID_ARGUMENT",
      (ctx) => ctx.runMutation(components.guard.codes.revoke, { subject: "", action: "x" }),
    ],
  ];
  test.each(cases)("%s → %s", async (_name, code, call) => {
    expect(await errorCode(() => s.t.mutation(call))).toBe(code);
  });

  test("none of the rejected calls changed any state", async () => {
    // A pending code exists first, so a bad call that wrote anything would show.
    const fresh = setup();
    await fresh.issue("a", "x");
    const before = await dumpComponent(fresh.t);
    for (const [, , call] of cases) await errorCode(() => fresh.t.mutation(call));
    expect(await dumpComponent(fresh.t)).toEqual(before);
  });
});

describe("the secret is read on first use", () => {
  /** The error data of the first `issue` of a client built with `options`, and what it wrote. */
  async function firstIssue(options: Partial<ConfirmationsOptions>) {
    const fresh = setup(options);
    const before = await dumpComponent(fresh.t);
    let data: Record<string, unknown> = {};
    try {
      await fresh.issue("a", "x");
    } catch (e) {
      data = e instanceof ConvexError ? (e.data as Record<string, unknown>) : { thrown: String(e) };
    }
    return { data, wrote: (await dumpComponent(fresh.t)).length - before.length, fresh };
  }

  test.each([
    ["unset (undefined)", undefined],
    ["empty", ""],
  ])(
    "a %s secret builds, then issue and consume throw INVALID_CONFIG naming the client, the option and the fix",
    async (_name, secret) => {
      const build = () => new Confirmations(components.guard, { secret });
      expect(build).not.toThrow(); // a push's analysis loads the module without the environment
      const { data, wrote, fresh } = await firstIssue({ secret });
      expect(data).toMatchObject({
        code: "INVALID_CONFIG",
        client: "Confirmations",
        option: "secret",
      });
      expect(data.message).toContain("Confirmations");
      expect(data.message).toContain("`secret`");
      expect(data.message).toContain("npx convex env set GUARD_SECRET");
      expect(wrote).toBe(0);
      expect(
        await errorCode(() =>
          fresh.t.mutation((ctx) =>
            fresh.c.consume(ctx, { subject: "a", action: "x", code: "12345678" }),
          ),
        ),
      ).toBe("INVALID_CONFIG");
      // Reads need no secret.
      expect(await fresh.status("a", "x")).toMatchObject({ pending: false });
    },
  );

  test("unset previousSecrets entries are skipped", async () => {
    const s = setup({ previousSecrets: [undefined, ""] });
    const issued = await s.issue("a", "x");
    expect(issued.ok).toBe(true);
  });

  test.each([
    ["secret shorter than 32 bytes", { secret: "x".repeat(31) }],
    ["secret not a string", { secret: 42 as unknown as string }],
    ["previousSecrets not an array", { previousSecrets: SECRET as never }],
    ["five previous secrets", { previousSecrets: [1, 2, 3, 4, 5].map((i) => SECRET + i) }],
    ["a short previous secret", { previousSecrets: ["short"] }],
    ["a previous secret equal to the current one", { previousSecrets: [SECRET] }],
  ])(
    "%s: builds, then the first issue throws INVALID_CONFIG and writes nothing",
    async (_name, options) => {
      const { data, wrote } = await firstIssue(options);
      expect(data).toMatchObject({
        code: "INVALID_CONFIG",
        client: "Confirmations",
        option: "secret",
      });
      expect(wrote).toBe(0);
    },
  );
});

describe("host-side checks: the secret and the code never reach the component", () => {
  test("a bad secret fails on first use, and the message never echoes it", async () => {
    const secret = "short-secret-value";
    const s = setup({ secret });
    let message = "";
    try {
      await s.issue("a", "x");
    } catch (e) {
      message = JSON.stringify((e as ConvexError<string>).data ?? String(e));
    }
    expect(message).toContain("INVALID_CONFIG");
    expect(message).not.toContain(secret);
  });
});
