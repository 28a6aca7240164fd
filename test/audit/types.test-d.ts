import { expectTypeOf, test } from "vitest";
import { v } from "convex/values";
import type { PaginationResult } from "convex/server";
import { AuditLog, type AuditEvent, type AuditMutationCtx, type AuditQueryCtx } from "convex-guard";
import { components } from "../setup.js";

const typed = new AuditLog(components.guard, {
  actions: {
    "user.delete": v.object({ reason: v.string() }),
    "user.login": v.optional(v.object({ method: v.string() })),
  },
});
const loose = new AuditLog(components.guard);
declare const ctx: AuditMutationCtx;
declare const qctx: AuditQueryCtx;
const base = { actor: { type: "user", id: "a" }, outcome: "success" as const };

test("typed actions constrain action names and metadata", () => {
  void typed.log(ctx, { ...base, action: "user.delete", metadata: { reason: "spam" } });
  void typed.log(ctx, { ...base, action: "user.login" });
  // @ts-expect-error unknown action
  void typed.log(ctx, { ...base, action: "user.unknown" });
  // @ts-expect-error metadata of the wrong shape
  void typed.log(ctx, { ...base, action: "user.delete", metadata: { reason: 1 } });
  // @ts-expect-error required metadata missing
  void typed.log(ctx, { ...base, action: "user.delete" });
  // @ts-expect-error outcome outside the enum
  void loose.log(ctx, { ...base, action: "anything", outcome: "ok" });
  void loose.log(ctx, { ...base, action: "anything", metadata: { free: ["form"] } });
});

test("list returns a PaginationResult of events", () => {
  expectTypeOf(
    loose.list(qctx, { paginationOpts: { numItems: 10, cursor: null } }),
  ).resolves.toEqualTypeOf<PaginationResult<AuditEvent>>();
});
