import { test, vi } from "vitest";
import { guardTest, runInGuard } from "./setup.js";
import { insertEvent } from "../src/component/audit.js";
test("perf", async () => {
  vi.useFakeTimers();
  const t = guardTest();
  for (let c = 0; c < 5; c++) {
    let t0 = performance.now();
    await runInGuard(t, async (ctx) => {
      for (let i = 0; i < 1000; i++) await insertEvent(ctx, 1_000_000 + i, { action: "x", actor: { type: "u", id: "a" }, targets: [{type:"d", id:"1"}], outcome: "success" }, [], undefined);
    });
    console.log("insertEvent x1000", performance.now() - t0);
    t0 = performance.now();
    await runInGuard(t, async (ctx) => {
      for (let i = 0; i < 1000; i++) { const id = await ctx.db.insert("auditEvents", { action: "x", actor: { type: "u", id: "a" }, actorKey: "k", targets: [], tenantKey: "", outcome: "success", occurredAt: 1, recordedAt: 1, leafHash: "x" }); }
    });
    console.log("raw insert x1000", performance.now() - t0);
  }
});
