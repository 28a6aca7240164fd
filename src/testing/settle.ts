/**
 * Runs the component's background work that is due now, at the current (fake)
 * time, without moving the clock.
 */
import { componentsGeneric, type FunctionReturnType } from "convex/server";
import type { ComponentApi } from "../component/_generated/component.js";
import type { AnyTestConvex } from "./register.js";

/** What `settle` did: the rounds it ran and the documents each capability processed. */
export type SettleResult = { rounds: number; processed: Record<string, number> };

type Round = FunctionReturnType<ComponentApi["maintenance"]["runNow"]>;

/**
 * Runs maintenance rounds now (sealing audit events, retention, idle-key
 * sweeps, expired codes: whatever is due at `Date.now()`) until a round
 * reports nothing more, in the component registered as `name` (default
 * "guard"). It fires no timer and moves no clock, so work scheduled for later
 * (a retention horizon a year away) stays scheduled. Throws if a pass throws,
 * or if work is still left after `maxRounds` rounds (default 100).
 */
export async function settle(
  t: AnyTestConvex,
  options: { name?: string; maxRounds?: number } = {},
): Promise<SettleResult> {
  const name = options.name ?? "guard";
  const maxRounds = options.maxRounds ?? 100;
  // `components.<name>.maintenance.runNow`, as a host's generated api builds it.
  const runNow = componentsGeneric()[name]?.maintenance?.runNow;
  if (runNow === undefined) throw new Error(`settle: no component reference for "${name}"`);
  const processed: Record<string, number> = {};
  for (let rounds = 1; rounds <= maxRounds; rounds++) {
    const round: Round = await t.mutation((ctx) => ctx.runMutation(runNow, {}));
    const { more, ...counts } = round;
    for (const [capability, n] of Object.entries(counts)) {
      processed[capability] = (processed[capability] ?? 0) + n;
    }
    if (!more) return { rounds, processed };
  }
  throw new Error(`settle: maintenance still had work after ${maxRounds} rounds`);
}
