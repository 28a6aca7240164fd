import { vi } from "vitest";
import schema from "../../src/component/schema.js";
import { Confirmations, type ConfirmationsOptions } from "../../src/client/confirmations.js";
import type { GuardAuditEvent } from "../../src/client/auditSink.js";
import { components, guardTest, runInGuard } from "../setup.js";

/** Audit rows hold commit timestamps (bigint), which JSON cannot encode as numbers. */
const bigintAsText = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}` : v);

export const T0 = 1_700_000_000_000;
export const SECRET = "test-secret-0123456789-abcdefghij-KLMNOP"; // 40 bytes

export function useClock(): void {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
}

/** Moves the clock without firing timers (the maintenance loop stays parked). */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

export type Recorded = GuardAuditEvent;

/** A Confirmations client plus an in-memory audit sink that records every event. */
export function setup(options: Partial<ConfirmationsOptions> = {}) {
  const t = guardTest();
  const events: Recorded[] = [];
  const sink = {
    async log(_ctx: unknown, event: GuardAuditEvent) {
      events.push(structuredClone(event));
      return "id";
    },
  };
  const c = new Confirmations(components.guard, { secret: SECRET, audit: sink, ...options });
  const issue = (subject: string, action: string, payload?: unknown) =>
    t.mutation(async (ctx) => c.issue(ctx, { subject, action, payload: payload as any }));
  const consume = (subject: string, action: string, payload: unknown, code: string) =>
    t.mutation(async (ctx) => c.consume(ctx, { subject, action, payload: payload as any, code }));
  const status = (subject: string, action: string) =>
    t.query(async (ctx) => c.status(ctx, { subject, action }));
  const revoke = (subject: string, action: string) =>
    t.mutation(async (ctx) => c.revoke(ctx, { subject, action }));
  return { t, c, events, issue, consume, status, revoke };
}

/** Every document of every component table, plus scheduled jobs (their args), as JSON strings. */
export async function dumpComponent(t: ReturnType<typeof guardTest>): Promise<string[]> {
  return runInGuard(t, async (ctx) => {
    const out: string[] = [];
    for (const table of Object.keys(schema.tables)) {
      for (const doc of await ctx.db.query(table as any).collect())
        out.push(JSON.stringify(doc, bigintAsText));
    }
    for (const job of await ctx.db.system.query("_scheduled_functions").collect())
      out.push(JSON.stringify(job));
    return out;
  });
}

export async function codeRows(t: ReturnType<typeof guardTest>) {
  return runInGuard(t, async (ctx) => ctx.db.query("confirmationCodes").collect());
}

/** A wrong code of the same format: `code` with its first character changed. */
export function wrong(code: string): string {
  const first = code[0] === "2" ? "3" : "2";
  return first + code.slice(1);
}
