import { vi } from "vitest";
import { ApiKeys, type ApiKeysOptions } from "../../src/client/apiKeys.js";
import type { GuardAuditEvent } from "../../src/client/auditSink.js";
import { components, guardTest, runInGuard } from "../setup.js";

export const T0 = 1_700_000_000_000;
export const SCOPES = ["orders:read", "orders:write", "reports:read"] as const;
export type Scope = (typeof SCOPES)[number];
export const OWNER = { type: "team", id: "team-1" };

export function useClock(): void {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
}

/** Moves the clock without firing timers (the maintenance loop stays parked). */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

/** An ApiKeys client on a fresh component, with an in-memory audit sink. */
export function setup(options: Partial<ApiKeysOptions<Scope>> = {}) {
  const t = guardTest();
  const events: GuardAuditEvent[] = [];
  const sink = {
    async log(_ctx: unknown, event: GuardAuditEvent) {
      events.push(structuredClone(event));
      return "id";
    },
  };
  const keys = new ApiKeys(components.guard, {
    prefix: "sk_test",
    scopes: SCOPES,
    audit: sink,
    ...options,
  });
  const create = (
    args: {
      name?: string;
      scopes?: Scope[];
      expiresAt?: number;
      owner?: { type: string; id: string };
    } = {},
  ) =>
    t.mutation(async (ctx) =>
      keys.create(ctx, {
        name: args.name ?? "Next.js server",
        owner: args.owner ?? OWNER,
        scopes: args.scopes ?? ["orders:read"],
        expiresAt: args.expiresAt,
      }),
    );
  const verify = (key: string, scope?: Scope) =>
    t.mutation(async (ctx) => keys.verify(ctx, { key, scope }));
  const verifyQuery = (key: string, scope?: Scope) =>
    t.query(async (ctx) => keys.verify(ctx, { key, scope }));
  const rotate = (keyId: string, overlap?: number) =>
    t.mutation(async (ctx) => keys.rotate(ctx, { keyId, overlap }));
  const revoke = (keyId: string) => t.mutation(async (ctx) => keys.revoke(ctx, { keyId }));
  const get = (keyId: string) => t.query(async (ctx) => keys.get(ctx, { keyId }));
  return { t, keys, events, create, verify, verifyQuery, rotate, revoke, get };
}

export { dumpComponent } from "../codes/helpers.js";

export async function keyRows(t: ReturnType<typeof guardTest>) {
  return runInGuard(t, async (ctx) => ctx.db.query("apiKeys").collect());
}

export { forge, partsOf, unknownKey, wrongSecret } from "./forge.js";
