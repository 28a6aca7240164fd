/**
 * Section 1b and most of section 4 for the audit log and confirmations: the
 * cost per call of `audit.log`, `list` pages at two log sizes, `verify` per
 * 1,000 events, seal throughput, and `issue` / `consume`.
 */
import { AuditLog, Confirmations } from "convex-guard";
import {
  components,
  inComponent,
  measure,
  measureQuery,
  newInstance,
  setNow,
  type Metrics,
  type T,
} from "./harness.js";
import { summarize, round, type MetricStats } from "./stats.js";
import { contentionOf, type ContentionRow } from "./contention.js";
import { PAGE_SIZE } from "./promises.js";

export type GuardCostRow = { call: string; ours: MetricStats; note?: string };
export type ListScaleRow = {
  events: number;
  filter: string;
  documentsRead: number;
  databaseQueries: number;
  bytesRead: number;
};

/** The page size the promises are stated for. */
const PAGE = PAGE_SIZE;

function event(i: number) {
  return {
    action: i % 3 === 0 ? "user.delete" : "user.update",
    actor: { type: "user", id: `admin-${i % 7}` },
    targets: [{ type: "user", id: `user-${i % 13}` }],
    outcome: "success" as const,
    context: { ip: "203.0.113.7", requestId: `req-${i}` },
    metadata: { field: "email" },
  };
}

const FILTERS: { name: string; args: Record<string, unknown> }[] = [
  { name: "none (newest first)", args: {} },
  { name: "actor", args: { actor: { type: "user", id: "admin-3" } } },
  { name: "target", args: { target: { type: "user", id: "user-5" } } },
  {
    name: "action + time range",
    args: { action: "user.delete", from: 0, to: Number.MAX_SAFE_INTEGER },
  },
];

async function listCosts(t: T, audit: AuditLog, events: number): Promise<ListScaleRow[]> {
  const rows: ListScaleRow[] = [];
  for (const f of FILTERS) {
    const { cost: m, result } = await measureQuery(t, (ctx) =>
      audit.list(ctx, { ...(f.args as any), paginationOpts: { numItems: PAGE, cursor: null } }),
    );
    if (result.page.length !== PAGE)
      throw new Error(`list(${f.name}) returned ${result.page.length} events, not ${PAGE}`);
    rows.push({
      events,
      filter: f.name,
      documentsRead: m.documentsRead,
      databaseQueries: m.databaseQueries,
      bytesRead: m.bytesRead,
    });
  }
  return rows;
}

/**
 * Grows the log to `target` events by copying the real events (and their
 * target rows) with earlier timestamps. convex-test evaluates every query by
 * scanning every document of the component, so logging 20,000 events for
 * real would take ~10 minutes; the copies are identical in shape and indexes,
 * which is all a page's cost depends on.
 */
async function growLog(t: T, target: number) {
  const [events, targets] = await inComponent(t, "guard", async (ctx) => [
    await ctx.db.query("auditEvents").collect(),
    await ctx.db.query("auditTargets").collect(),
  ]);
  const byEvent = new Map<string, any[]>();
  for (const r of targets) byEvent.set(r.event, [...(byEvent.get(r.event) ?? []), r]);
  const span =
    Math.max(...events.map((e: any) => e.recordedAt)) -
    Math.min(...events.map((e: any) => e.recordedAt)) +
    1;
  let have = (await inComponent(
    t,
    "guard",
    async (ctx) => (await ctx.db.query("auditEvents").collect()).length,
  )) as number;
  for (let copy = 1; have < target; copy++) {
    const shift = copy * span;
    const chunk = events.slice(0, Math.min(events.length, target - have));
    for (let i = 0; i < chunk.length; i += 1000) {
      await inComponent(t, "guard", async (ctx) => {
        for (const e of chunk.slice(i, i + 1000)) {
          const { _id, _creationTime, seq: _seq, ...fields } = e;
          const id = await ctx.db.insert("auditEvents", {
            ...fields,
            recordedAt: e.recordedAt - shift,
            occurredAt: e.occurredAt - shift,
          });
          for (const r of byEvent.get(_id) ?? []) {
            const { _id: _, _creationTime: __, ...rf } = r;
            await ctx.db.insert("auditTargets", {
              ...rf,
              event: id,
              recordedAt: r.recordedAt - shift,
            });
          }
        }
      });
    }
    have += chunk.length;
  }
}

export type AuditResults = {
  costs: GuardCostRow[];
  listScale: ListScaleRow[];
  sealEventsPerSec: number;
  verifyPer1000: Metrics;
  verifyOk: boolean;
  logContention: ContentionRow[];
};

export async function auditBench(
  opts: {
    baseEvents: number;
    sizes: number[];
    samples: number;
    contentionN: number;
    contentionRounds: number;
  },
  log: (s: string) => void,
): Promise<AuditResults> {
  const t = newInstance();
  const audit = new AuditLog(components.guard);
  let now = Date.now();
  const tick = () => setNow((now += 7));
  log(`  audit: logging ${opts.baseEvents} events`);
  for (let i = 0; i < opts.baseEvents - opts.samples; i += 50) {
    tick();
    await t.mutation(async (ctx: any) => {
      for (let j = i; j < Math.min(i + 50, opts.baseEvents - opts.samples); j++)
        await audit.log(ctx, event(j));
    });
  }
  const logs: Metrics[] = [];
  for (let i = 0; i < opts.samples; i++) {
    tick();
    logs.push(
      (await measure(t, (ctx) => audit.log(ctx, event(opts.baseEvents - opts.samples + i)))).cost,
    );
  }
  const idem: Metrics[] = [];
  for (let i = 0; i < opts.samples; i++) {
    tick();
    idem.push(
      (await measure(t, (ctx) => audit.log(ctx, { ...event(i), eventId: `evt-${i}` }))).cost,
    );
  }

  const logContention: ContentionRow[] = [];
  if (opts.contentionN > 0) {
    log(`  contention: audit.log from different mutations`);
    logContention.push(
      await contentionOf(
        "audit.log, different actors and targets",
        "ours",
        t,
        opts.contentionN,
        opts.contentionRounds,
        (ctx, i) =>
          audit.log(ctx, {
            ...event(i),
            actor: { type: "user", id: `c-${i}` },
            targets: [{ type: "doc", id: `d-${i}` }],
          }),
      ),
      await contentionOf(
        "audit.log, same actor and target",
        "ours",
        t,
        opts.contentionN,
        opts.contentionRounds,
        (ctx, i) =>
          audit.log(ctx, {
            ...event(i),
            actor: { type: "user", id: "hot" },
            targets: [{ type: "doc", id: "hot" }],
          }),
      ),
    );
  }

  log(`  audit: sealing`);
  const sealStart = performance.now();
  let sealed = 0;
  const sealPasses: Metrics[] = [];
  for (;;) {
    tick();
    const { result, cost: m } = await measure(t, (ctx) => audit.seal(ctx));
    sealed += result.processed;
    if (result.processed > 0) sealPasses.push(m);
    if (!result.more) break;
  }
  const sealEventsPerSec = round(sealed / ((performance.now() - sealStart) / 1000), 0);

  log(`  audit: verify`);
  let cursor: string | null = null;
  let checked = 0;
  let verifyOk = true;
  const verifyTotal: Metrics = {
    documentsRead: 0,
    documentsWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    databaseQueries: 0,
  };
  for (;;) {
    const { result, cost: m } = await measureQuery(t, (ctx) => audit.verify(ctx, { cursor }));
    for (const k of Object.keys(verifyTotal) as (keyof Metrics)[]) verifyTotal[k] += m[k];
    checked += result.checkedEvents;
    verifyOk &&= result.ok;
    if (result.done || result.cursor === null) break;
    cursor = result.cursor;
  }
  const per = 1000 / Math.max(1, checked);
  const verifyPer1000 = Object.fromEntries(
    Object.entries(verifyTotal).map(([k, v]) => [k, round(v * per, 1)]),
  ) as Metrics;

  const listScale: ListScaleRow[] = [];
  for (const size of opts.sizes) {
    log(`  audit: list pages at ${size} events`);
    if (size > opts.baseEvents) await growLog(t, size);
    listScale.push(...(await listCosts(t, audit, size)));
  }

  const costs: GuardCostRow[] = [
    { call: "audit.log (1 target)", ours: summarize(logs) },
    { call: "audit.log with eventId (idempotent)", ours: summarize(idem) },
    {
      call: `audit seal pass (${Math.round(sealed / Math.max(1, sealPasses.length))} events)`,
      ours: summarize(sealPasses),
      note: "maintenance, not a host call",
    },
  ];
  return { costs, listScale, sealEventsPerSec, verifyPer1000, verifyOk, logContention };
}

export async function confirmationsBench(samples: number): Promise<GuardCostRow[]> {
  const t = newInstance();
  const codes = new Confirmations(components.guard, {
    secret: "bench-secret-0123456789abcdef-0123456789",
  });
  const issue: Metrics[] = [];
  const right: Metrics[] = [];
  const wrong: Metrics[] = [];
  const wrongAgain: Metrics[] = [];
  const reissue: Metrics[] = [];
  for (let i = 0; i < samples; i++) {
    const target = {
      subject: `admin-${i}`,
      action: "user.deleteAll",
      payload: { userId: `u-${i}` },
    };
    const issued = await measure(t, (ctx) => codes.issue(ctx, target));
    if (!issued.result.ok) throw new Error("issue was rate limited");
    issue.push(issued.cost);
    const code = issued.result.code;
    const bad = code === "00000000" ? "11111111" : "00000000";
    const w = await measure(t, (ctx) => codes.consume(ctx, { ...target, code: bad }));
    if (w.result.ok) throw new Error("a wrong code was accepted");
    wrong.push(w.cost);
    const w2 = await measure(t, (ctx) => codes.consume(ctx, { ...target, code: bad }));
    if (w2.result.ok) throw new Error("a wrong code was accepted");
    wrongAgain.push(w2.cost);
    const r = await measure(t, (ctx) => codes.consume(ctx, { ...target, code }));
    if (!r.result.ok) throw new Error(`the right code was refused: ${JSON.stringify(r.result)}`);
    right.push(r.cost);
    const again = await measure(t, (ctx) => codes.issue(ctx, target));
    if (again.result.ok) reissue.push(again.cost);
  }
  return [
    { call: "confirmations.issue (first for subject+action)", ours: summarize(issue) },
    { call: "confirmations.issue (re-issue)", ours: summarize(reissue) },
    { call: "confirmations.consume, right code", ours: summarize(right) },
    { call: "confirmations.consume, wrong code (first failure)", ours: summarize(wrong) },
    { call: "confirmations.consume, wrong code (later failure)", ours: summarize(wrongAgain) },
  ];
}
