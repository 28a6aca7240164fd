import type { GenericDataModel, GenericQueryCtx } from "convex/server";
import { ConvexError } from "convex/values";
import { AuditLog, ApiKeys, Confirmations, MINUTE, RateLimiter } from "convex-guard";
import { describe, expect, test } from "vitest";
import { components, guardTest } from "./setup.js";

/**
 * Every writer of every client, called with a query's ctx, throws one coded
 * error that names the method and what a query can call instead (instead of
 * "ctx.runMutation is not a function" from deep inside). The type system
 * refuses the call too (each line carries @ts-expect-error).
 */
const limiter = new RateLimiter(components.guard, {
  send: { kind: "token bucket", rate: 10, period: MINUTE },
});
const audit = new AuditLog(components.guard);
const codes = new Confirmations(components.guard, {
  secret: "test-secret-0123456789-abcdefghij-KLMNOP",
});
const keys = new ApiKeys(components.guard, { prefix: "sk_test", scopes: ["read"] });
/** What a query ctx offers the clients: reads only. */
type Q = Pick<GenericQueryCtx<GenericDataModel>, "runQuery">;
const subject = { type: "user", id: "u1" };

const AUDIT = "list, get, verify, head or proof";
const KEYS = "verify (it only reads there), get or list";

const writers: [string, string, (ctx: Q) => Promise<unknown>][] = [
  [
    "RateLimiter.limit",
    "check or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.limit(ctx, "send"),
  ],
  [
    "RateLimiter.limitAll",
    "check or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.limitAll(ctx, [{ name: "send" }]),
  ],
  [
    "RateLimiter.reset",
    "check or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.reset(ctx, "send"),
  ],
  [
    "RateLimiter.credit",
    "check or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.credit(ctx, "send", { count: 1 }),
  ],
  [
    "RateLimiter.block",
    "listBlocks or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.block(ctx, "send", { key: "k", until: Date.now() + MINUTE }),
  ],
  [
    "RateLimiter.unblock",
    "listBlocks or getValue",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      limiter.unblock(ctx, "send"),
  ],
  [
    "AuditLog.log",
    AUDIT,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      audit.log(ctx, { action: "x", actor: subject, outcome: "success" }),
  ],
  [
    "AuditLog.seal",
    AUDIT,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      audit.seal(ctx),
  ],
  [
    "AuditLog.erase",
    AUDIT,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      audit.erase(ctx, { subject }),
  ],
  [
    "Confirmations.issue",
    "status",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      codes.issue(ctx, { subject: "u1", action: "x" }),
  ],
  [
    "Confirmations.consume",
    "status",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      codes.consume(ctx, { subject: "u1", action: "x", code: "12345678" }),
  ],
  [
    "Confirmations.revoke",
    "status",
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      codes.revoke(ctx, { subject: "u1", action: "x" }),
  ],
  [
    "ApiKeys.create",
    KEYS,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      keys.create(ctx, { name: "n", owner: subject, scopes: ["read"] }),
  ],
  [
    "ApiKeys.rotate",
    KEYS,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      keys.rotate(ctx, { keyId: "k" }),
  ],
  [
    "ApiKeys.revoke",
    KEYS,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      keys.revoke(ctx, { keyId: "k" }),
  ],
  [
    "ApiKeys.remove",
    KEYS,
    (ctx) =>
      // @ts-expect-error a query's ctx cannot write
      keys.remove(ctx, { keyId: "k" }),
  ],
];

describe("a writer called with a query's ctx", () => {
  test.each(writers)(
    "%s throws INVALID_ARGUMENT naming what queries use (%s)",
    async (method, reads, call) => {
      const t = guardTest();
      let data: unknown = "did not throw";
      await t.query(async (ctx) => {
        try {
          await call(ctx);
        } catch (e) {
          data = e instanceof ConvexError ? e.data : String(e);
        }
      });
      expect(data).toMatchObject({ code: "INVALID_ARGUMENT", method });
      const message = (data as { message: string }).message;
      expect(message).toContain(`${method} writes`);
      expect(message).toContain("query's");
      expect(message).toContain(`In a query use ${reads}.`);
    },
  );
});
