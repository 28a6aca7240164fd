/**
 * What convex-guard adds to a bundle: the React hook (`convex-guard/react`,
 * beside the peer's `@convex-dev/rate-limiter/react`) and the host-side
 * client (`convex-guard`, every capability, beside the peer's
 * `@convex-dev/rate-limiter`), each bundled alone and minified by esbuild with
 * `react` and `convex` external (every app has those already).
 */
import { build } from "esbuild";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type BundleSize = {
  oursBytes: number;
  peerBytes: number;
  clientBytes: number;
  peerClientBytes: number;
};

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
  const client = fileURLToPath(new URL("../src/client/index.ts", import.meta.url));
  const require = createRequire(import.meta.url);
  const peer = require.resolve("@convex-dev/rate-limiter/react");
  const peerClient = require.resolve("@convex-dev/rate-limiter");
  return {
    oursBytes: await minifiedBytes(ours),
    peerBytes: await minifiedBytes(peer),
    clientBytes: await minifiedBytes(client),
    peerClientBytes: await minifiedBytes(peerClient),
  };
}
