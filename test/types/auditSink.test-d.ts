import { expectTypeOf, test } from "vitest";
import { v } from "convex/values";
import {
  ApiKeys,
  AuditLog,
  Confirmations,
  RateLimiter,
  type AuditSink,
  type GuardAuditEvent,
} from "convex-guard";
import { components } from "../setup.js";

/*
 * One sink type for every client, and an AuditLog with any typed `actions`
 * satisfies it. test/types/exactOptional.test.ts compiles this file again
 * with exactOptionalPropertyTypes, where hand-written subsets used to differ.
 */

const typed = new AuditLog(components.guard, {
  actions: {
    "user.delete": v.object({ reason: v.string() }),
    "user.login": v.optional(v.object({ method: v.optional(v.string()) })),
  },
});
const loose = new AuditLog(components.guard);

test("an AuditLog, typed or not, is an AuditSink", () => {
  expectTypeOf(typed).toMatchTypeOf<AuditSink>();
  expectTypeOf(loose).toMatchTypeOf<AuditSink>();
  const sinks: AuditSink[] = [typed, loose];
  void sinks;
});

test("every client takes the same AuditSink", () => {
  for (const audit of [typed, loose]) {
    void new Confirmations(components.guard, { secret: "s".repeat(32), audit });
    void new ApiKeys(components.guard, { prefix: "sk", scopes: [], audit });
    const limiter = new RateLimiter(components.guard, {});
    void limiter;
  }
  type Options<C> = C extends new (component: any, options: infer O) => any ? O : never;
  expectTypeOf<NonNullable<Options<typeof Confirmations>["audit"]>>().toEqualTypeOf<AuditSink>();
  expectTypeOf<NonNullable<Options<typeof ApiKeys<string>>["audit"]>>().toEqualTypeOf<AuditSink>();
  expectTypeOf<
    NonNullable<Parameters<RateLimiter["block"]>[2]["audit"]>
  >().toEqualTypeOf<AuditSink>();
});

test("a sink's events are in the guard. namespace a typed AuditLog always accepts", () => {
  expectTypeOf<GuardAuditEvent["action"]>().toEqualTypeOf<`guard.${string}`>();
  const actor = { type: "u", id: "u" };
  // @ts-expect-error a host action is not a sink event
  const e: GuardAuditEvent = { action: "user.delete", actor, outcome: "success" };
  void e;
});

test("a log that accepts fewer events than a sink records is not a sink", () => {
  const narrow = {
    log: async (_ctx: unknown, e: { action: "guard.x"; actor: { type: string; id: string } }) => e,
  };
  // @ts-expect-error narrower than GuardAuditEvent
  const sink: AuditSink = narrow;
  void sink;
});
