/**
 * API keys: the cost of `verify` (valid, wrong secret, malformed; in a
 * mutation and in a query; with and without a per-key limit) and a hot-key
 * check: one key verified 100 times a second, every call committed, with the
 * read and write sets recorded (recorder.ts), to show that no document is
 * written often enough to make concurrent verifications retry.
 */
import { ApiKeys, MINUTE } from "convex-guard";
import {
  components,
  measure,
  measureQuery,
  newInstance,
  setNow,
  type Metrics,
  type T,
} from "./harness.js";
import { installRecorder, record, conflicts, type AccessSet } from "./recorder.js";
import { summarize, pct } from "./stats.js";
import type { GuardCostRow } from "./costGuard.js";
import { wrongSecret } from "../test/apiKeys/forge.js";

export type HotKeyRow = {
  scenario: string;
  callsPerSecond: number;
  seconds: number;
  calls: number;
  /** The most writes one document got in any minute. */
  maxWritesPerDocPerMinute: number;
  /** The document written most, by table. */
  hottestTable: string;
  /** Calls that would retry: a call committed within `overlapMs` before it wrote a document it read. */
  conflictPct: number;
  overlapMs: number;
};

const OWNER = { type: "team", id: "bench" };
const SCOPES = ["orders:read", "orders:write"] as const;
/** How long a mutation is assumed to run between its snapshot and its commit. */
const OVERLAP_MS = 50;

async function setup(t: T, limit?: ConstructorParameters<typeof ApiKeys>[1]["limit"]) {
  const keys = new ApiKeys(components.guard, {
    prefix: "sk_live",
    scopes: SCOPES,
    ...(limit ? { limit } : {}),
  });
  const { key, keyId } = await t.mutation((ctx: any) =>
    keys.create(ctx, { name: "bench", owner: OWNER, scopes: ["orders:read"] }),
  );
  return { keys, key, keyId };
}

export async function apiKeyCosts(samples: number): Promise<GuardCostRow[]> {
  const t = newInstance();
  const { keys, key } = await setup(t);
  const limited = await setup(t, { kind: "token bucket", rate: 1e6, period: MINUTE });
  const wrong = wrongSecret(key);
  const malformed = key.slice(0, -1);
  const rows: {
    call: string;
    fn: (ctx: any) => Promise<unknown>;
    query?: boolean;
    note?: string;
  }[] = [
    {
      call: "apiKeys.verify, valid key (mutation)",
      fn: (ctx) => keys.verify(ctx, { key, scope: "orders:read" }),
    },
    {
      call: "apiKeys.verify, valid key (query)",
      fn: (ctx) => keys.verify(ctx, { key, scope: "orders:read" }),
      query: true,
    },
    {
      call: "apiKeys.verify, valid key with per-key limit",
      fn: (ctx) => limited.keys.verify(ctx, { key: limited.key, scope: "orders:read" }),
    },
    {
      call: "apiKeys.verify, wrong secret",
      fn: (ctx) => keys.verify(ctx, { key: wrong }),
      note: "counted in the key's denial budget",
    },
    {
      call: "apiKeys.verify, malformed key",
      fn: (ctx) => keys.verify(ctx, { key: malformed }),
      note: "refused before any read",
    },
  ];
  // Warm: lastUsedAt recorded and limiter documents exist, as on a key in use.
  await t.mutation((ctx: any) => keys.verify(ctx, { key }));
  await t.mutation((ctx: any) => limited.keys.verify(ctx, { key: limited.key }));
  const out: GuardCostRow[] = [];
  for (const row of rows) {
    const ms: Metrics[] = [];
    for (let i = 0; i < samples; i++) {
      const r = row.query ? await measureQuery(t, row.fn) : await measure(t, row.fn);
      ms.push(r.cost);
    }
    out.push({ call: row.call, ours: summarize(ms), ...(row.note ? { note: row.note } : {}) });
  }
  return out;
}

/** `calls` verifications of one key, 1000 / `perSecond` ms apart, each committed; returns its row. */
async function hotKey(
  scenario: string,
  perSecond: number,
  seconds: number,
  limit: ConstructorParameters<typeof ApiKeys>[1]["limit"],
) {
  const t = newInstance();
  const { keys, key } = await setup(t, limit);
  installRecorder();
  await t.mutation((ctx: any) => keys.verify(ctx, { key })); // warm: lastUsedAt set, limiter documents exist
  // Start 55 s after the warm-up, so even a 10 s run crosses a lastUsedAt write.
  const start = Date.now() + 55_000;
  const step = 1000 / perSecond;
  const calls: { at: number; access: AccessSet }[] = [];
  for (let i = 0; i < perSecond * seconds; i++) {
    const at = start + Math.round(i * step);
    setNow(at);
    const r = await record(() => t.mutation((ctx: any) => keys.verify(ctx, { key })));
    if (r.error) throw r.error;
    if (!(r.result as { ok: boolean }).ok)
      throw new Error(`${scenario}: call ${i} was refused: ${JSON.stringify(r.result)}`);
    calls.push({ at, access: r.access });
  }
  // Writes per document per minute.
  const perDocMinute = new Map<string, number>();
  const tableOf = new Map<string, string>();
  for (const c of calls) {
    for (const w of c.access.writes.values()) {
      const k = `${w.id}@${Math.floor((c.at - start) / MINUTE)}`;
      perDocMinute.set(k, (perDocMinute.get(k) ?? 0) + 1);
      tableOf.set(w.id, w.table);
    }
  }
  let max = 0;
  let hottest = "–";
  for (const [k, count] of perDocMinute) {
    if (count > max) {
      max = count;
      hottest = tableOf.get(k.split("@")[0]!) ?? "–";
    }
  }
  // A call conflicts when a call committed in the OVERLAP_MS before its own commit wrote what it read.
  let conflicted = 0;
  for (let i = 0; i < calls.length; i++) {
    for (let j = i - 1; j >= 0 && calls[i]!.at - calls[j]!.at < OVERLAP_MS; j--) {
      if (conflicts(calls[j]!.access, calls[i]!.access)) {
        conflicted++;
        break;
      }
    }
  }
  return {
    scenario,
    callsPerSecond: perSecond,
    seconds,
    calls: calls.length,
    maxWritesPerDocPerMinute: max,
    hottestTable: hottest,
    conflictPct: pct(conflicted, calls.length, 2),
    overlapMs: OVERLAP_MS,
  } satisfies HotKeyRow;
}

export async function apiKeysHot(seconds: number, log: (s: string) => void): Promise<HotKeyRow[]> {
  const rows: HotKeyRow[] = [];
  log(`  api keys: one key at 100 verifications/s for ${seconds} s`);
  rows.push(await hotKey("one key, no per-key limit", 100, seconds, undefined));
  log(`  api keys: the same with a per-key limit of 10 shards`);
  rows.push(
    await hotKey("one key, per-key token bucket, 10 shards", 100, Math.min(seconds, 10), {
      kind: "token bucket",
      rate: 1e6,
      period: MINUTE,
      shards: 10,
    }),
  );
  return rows;
}
