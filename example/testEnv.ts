/**
 * The environment a deployment would set with `npx convex env set`, for the
 * tests and the demo: fresh random secrets per process, nothing secret
 * hard-coded. It runs on import, so import it before any module that builds a
 * client at top level (as convex/lib/guard.ts does with `process.env.GUARD_SECRET`).
 */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

process.env.GUARD_SECRET ??= randomHex(32);
process.env.GUARD_DEV_OUTBOX = "1";
