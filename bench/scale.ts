/**
 * Section 4 (rate limits): storage per active key and storage after many
 * distinct keys go idle and the sweep runs.
 *
 * `realKeys` keys are created by real `limit` calls (ours and the peer's);
 * the idle population is then grown to `keys` by copying those documents
 * under new key strings. convex-test evaluates every query by scanning every
 * document of the component, so creating 100,000 keys through real calls is
 * quadratic (hours); the copies are byte-for-byte the documents `limit`
 * writes. The sweep is the capability's own maintenance batch
 * (`maintainRateLimits`, what each maintenance tick runs), called pass by
 * pass until it reports nothing more to do.
 */
import { getDocumentSize } from "convex/values";
import { MINUTE } from "convex-guard";
import { maintainRateLimits } from "../src/component/rateLimits/maintain.js";
import { inComponent, newInstance, setNow, type T } from "./harness.js";
import { ours, peer } from "./limiters.js";
import { round } from "./stats.js";

export type ScaleResult = {
  realKeys: number;
  idleKeys: number;
  ours: {
    bytesPerActiveKey: number;
    docsPerActiveKey: number;
    beforeSweep: { docs: number; bytes: number };
    afterSweep: { docs: number; bytes: number };
    sweepPasses: number;
    sweepSeconds: number;
    docsPerPass: number;
  };
  peer: {
    bytesPerActiveKey: number;
    docsPerActiveKey: number;
    afterIdle: { docs: number; bytes: number };
  };
};

async function tableStats(t: T, component: string) {
  return inComponent(t, component, async (ctx) => {
    const docs = await ctx.db.query("rateLimits").collect();
    return {
      docs: docs.length,
      bytes: docs.reduce((s: number, d: any) => s + getDocumentSize(d), 0),
    };
  });
}

export async function rateLimitScale(
  realKeys: number,
  idleKeys: number,
  log: (s: string) => void,
): Promise<ScaleResult> {
  const t = newInstance();
  const config = { kind: "token bucket" as const, rate: 10, period: MINUTE };
  const o = ours({ l: config });
  const p = peer({ l: config });
  log(`  scale: ${realKeys} keys through real limit calls, ours and peer`);
  for (let i = 0; i < realKeys; i += 100) {
    await t.mutation(async (ctx: any) => {
      for (let j = i; j < Math.min(realKeys, i + 100); j++) {
        await o.limit(ctx, "l", { key: `user-${j}` });
        await p.limit(ctx, "l", { key: `user-${j}` });
      }
    });
  }
  const oursReal = await tableStats(t, "guard");
  const peerReal = await tableStats(t, "rateLimiter");

  log(`  scale: growing to ${idleKeys} idle keys (copies of real key documents)`);
  const templates = await inComponent(t, "guard", async (ctx) =>
    ctx.db.query("rateLimits").collect(),
  );
  for (let i = realKeys; i < idleKeys; i += 5000) {
    await inComponent(t, "guard", async (ctx) => {
      for (let j = i; j < Math.min(idleKeys, i + 5000); j++) {
        const { _id, _creationTime, ...fields } = templates[j % templates.length];
        await ctx.db.insert("rateLimits", { ...fields, key: `user-${j}` });
      }
    });
  }
  const beforeSweep = await tableStats(t, "guard");

  // Every key is idle once a full period has passed without calls.
  setNow(Date.now() + 2 * config.period);
  log(`  scale: sweeping`);
  const start = performance.now();
  let passes = 0;
  let processed = 0;
  for (;;) {
    const r = await inComponent(t, "guard", (ctx) => maintainRateLimits(ctx, Date.now()));
    passes++;
    processed += r.processed;
    if (!r.more) break;
  }
  const sweepSeconds = round((performance.now() - start) / 1000, 1);
  const afterSweep = await tableStats(t, "guard");
  const peerBytesPerKey = peerReal.bytes / realKeys;
  return {
    realKeys,
    idleKeys,
    ours: {
      bytesPerActiveKey: round(oursReal.bytes / realKeys, 1),
      docsPerActiveKey: round(oursReal.docs / realKeys, 2),
      beforeSweep,
      afterSweep,
      sweepPasses: passes,
      sweepSeconds,
      docsPerPass: round(processed / passes, 0),
    },
    peer: {
      bytesPerActiveKey: round(peerBytesPerKey, 1),
      docsPerActiveKey: round(peerReal.docs / realKeys, 2),
      // The peer never deletes idle keys: its storage stays one document per key ever seen.
      afterIdle: {
        docs: idleKeys * (peerReal.docs / realKeys),
        bytes: Math.round(idleKeys * peerBytesPerKey),
      },
    },
  };
}
