/**
 * What the React hook adds to a browser bundle: `convex-guard/react` and the
 * peer's `@convex-dev/rate-limiter/react`, each bundled alone and minified by
 * esbuild with `react` and `convex` external (every app has those already).
 */
import { build } from "esbuild";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type BundleSize = { oursBytes: number; peerBytes: number };

async function minifiedBytes(entry: string): Promise<number> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    external: ["react", "convex", "convex/*"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
}

export async function bundleSize(): Promise<BundleSize> {
  const ours = fileURLToPath(new URL("../src/react/index.ts", import.meta.url));
  const peer = createRequire(import.meta.url).resolve("@convex-dev/rate-limiter/react");
  return { oursBytes: await minifiedBytes(ours), peerBytes: await minifiedBytes(peer) };
}
