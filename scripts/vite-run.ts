/**
 * Runs a TypeScript entry point through Vite's SSR module loader, so code that
 * relies on Vite features (`import.meta.glob`, used by convex-test module maps
 * and by `convex-guard/test`) works outside vitest. Used by `npm run demo` and
 * `npm run bench`, with the same `convex-guard` aliases as vitest.config.ts.
 *
 * Usage: tsx scripts/vite-run.ts <entry.ts> [args...]
 */
import { createServer } from "vite";
import { resolve } from "node:path";
import config from "../vitest.config.js";

const entry = process.argv[2];
if (!entry) {
  console.error("usage: tsx scripts/vite-run.ts <entry.ts> [args...]");
  process.exit(2);
}

const server = await createServer({
  configFile: false,
  resolve: config.resolve,
  appType: "custom",
  logLevel: "warn",
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 0;
try {
  const mod = await server.ssrLoadModule(resolve(entry));
  if (typeof mod.main === "function") code = (await mod.main(process.argv.slice(3))) ?? 0;
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await server.close();
}
process.exit(code);
