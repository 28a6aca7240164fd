import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Confirmations } from "../../src/client/confirmations.js";
import { components } from "../setup.js";
import { SECRET, codeRows, setup, useClock, wrong } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

const OLD = "old-secret-0123456789-abcdefghij-KLMNOP!";
const NEW = "new-secret-0123456789-abcdefghij-KLMNOP?";

/** The code of a successful issue. */
function codeOf(r: { ok: boolean; code?: string }): string {
  if (!r.ok || r.code === undefined) throw new Error(`issue failed: ${JSON.stringify(r)}`);
  return r.code;
}

describe("secret rotation", () => {
  test("a code issued under the old secret is accepted once, as a success, never as a failure", async () => {
    const before = setup({ secret: OLD });
    const code = codeOf(await before.issue("u", "delete", { id: 1 }));
    // The deployment rotates: same tables, a client with the new secret that still accepts the old one.
    const events: string[] = [];
    const sink = {
      async log(_ctx: unknown, e: { action: string; outcome: string }) {
        events.push(`${e.action}:${e.outcome}`);
      },
    };
    const after = new Confirmations(components.guard, {
      secret: NEW,
      previousSecrets: [OLD],
      audit: sink,
    });
    const consume = (c: string) =>
      before.t.mutation((ctx) =>
        after.consume(ctx, { subject: "u", action: "delete", payload: { id: 1 }, code: c }),
      );
    expect(await consume(code)).toMatchObject({ ok: true });
    expect(events).toEqual(["guard.confirmation.consume:success"]);
    const [row] = await codeRows(before.t);
    expect(row).toMatchObject({ state: "consumed", failures: 0 });
    // Once: the same code again is "used", which is not counted either.
    expect(await consume(code)).toMatchObject({ ok: false, reason: "used" });
    expect((await codeRows(before.t))[0]?.failures).toBe(0);
  });

  test("new codes use the new secret only: the old secret alone no longer confirms them", async () => {
    const s = setup({ secret: NEW, previousSecrets: [OLD] });
    const code = codeOf(await s.issue("u", "x"));
    const oldOnly = new Confirmations(components.guard, { secret: OLD });
    const res = await s.t.mutation((ctx) =>
      oldOnly.consume(ctx, { subject: "u", action: "x", code }),
    );
    expect(res).toMatchObject({ ok: false, reason: "mismatch" });
    const newOnly = new Confirmations(components.guard, { secret: NEW });
    expect(
      await s.t.mutation((ctx) => newOnly.consume(ctx, { subject: "u", action: "x", code })),
    ).toMatchObject({ ok: true });
  });

  test("a wrong code under rotation costs one attempt (not one per secret tried)", async () => {
    const before = setup({ secret: OLD });
    const code = codeOf(await before.issue("u", "x"));
    const after = new Confirmations(components.guard, {
      secret: NEW,
      previousSecrets: [OLD, "older-secret-0123456789-abcdefghij-KLMNOP"],
      maxAttempts: 5,
    });
    const res = await before.t.mutation((ctx) =>
      after.consume(ctx, { subject: "u", action: "x", code: wrong(code) }),
    );
    expect(res).toMatchObject({ ok: false, reason: "invalid", attemptsLeft: 4 });
    // and another payload is still told apart from a wrong code
    const other = await before.t.mutation((ctx) =>
      after.consume(ctx, { subject: "u", action: "x", payload: { other: true }, code }),
    );
    expect(other).toMatchObject({ ok: false, reason: "mismatch", attemptsLeft: 3 });
    expect(
      await before.t.mutation((ctx) => after.consume(ctx, { subject: "u", action: "x", code })),
    ).toMatchObject({ ok: true });
  });

  test("without previousSecrets a rotation fails old codes as mismatch (the documented default)", async () => {
    const before = setup({ secret: OLD });
    const code = codeOf(await before.issue("u", "x"));
    const after = new Confirmations(components.guard, { secret: NEW });
    expect(
      await before.t.mutation((ctx) => after.consume(ctx, { subject: "u", action: "x", code })),
    ).toMatchObject({ ok: false, reason: "mismatch" });
  });
});

describe("the boundary", () => {
  test("no argument the client passes to the component holds the code or a secret", async () => {
    const s = setup({ previousSecrets: [OLD] });
    const sent: string[] = [];
    /** The host ctx, recording every argument object sent to a component function. */
    const spy = <C extends object>(ctx: C): C =>
      new Proxy(ctx, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== "runMutation" && prop !== "runQuery") return value;
          return (ref: unknown, args: unknown) => {
            sent.push(JSON.stringify(args));
            return (value as (r: unknown, a: unknown) => unknown).call(target, ref, args);
          };
        },
      });
    const target = { subject: "u", action: "x", payload: { amount: 5 } };
    const issued = await s.t.mutation((ctx) => s.c.issue(spy(ctx), target));
    const code = codeOf(issued);
    await s.t.mutation((ctx) => s.c.consume(spy(ctx), { ...target, code: wrong(code) }));
    await s.t.mutation((ctx) => s.c.consume(spy(ctx), { ...target, code: ` ${code} ` }));
    await s.t.query((ctx) => s.c.status(spy(ctx), target));
    expect(sent.length).toBe(4);
    for (const args of sent) {
      for (const plain of [code, wrong(code), SECRET, OLD]) expect(args).not.toContain(plain);
      expect(args).not.toContain("amount"); // nor the payload
    }
  });
});
