/// <reference types="vite/client" />
/**
 * The example app's function modules for convex-test. A module of its own:
 * Vite hoists an eager glob's imports to the top of the file that holds it, so
 * the harness imports testEnv.ts first and this file after it, and the app's
 * modules (lib/guard.ts reads GUARD_SECRET at load) see the test environment.
 */
// Eager, like convex-guard/test: no dynamic import inside a transaction.
// convex.config.ts is excluded: `app.use` only runs inside the Convex bundler.
const loaded = import.meta.glob(
  ["./convex/**/*.ts", "!./convex/**/*.test.ts", "!./convex/convex.config.ts"],
  {
    eager: true,
  },
);
export const modules = Object.fromEntries(
  Object.entries(loaded).map(([path, mod]) => [path, async () => mod]),
);
