/**
 * Temporary host projects for running the official Convex CLI against this
 * repository without touching its files: a folder with a `package.json`, a
 * `node_modules/` of symlinks into the repository's own (so nothing is
 * installed), `convex-guard` linked to the repository root (so the app sees
 * the package as a consumer does: `package.json` exports and `dist/`), and
 * copies of the folders the CLI reads and writes.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type Host = { dir: string; cliMain: string; cleanup(): void };

/** The official CLI's entry point in a project's node_modules. */
export function cliMainIn(projectDir: string): string {
  return join(projectDir, "node_modules", "convex", "bin", "main.js");
}

export function makeHost(opts: {
  /** Folders copied into the host, relative to the repository: `{ "convex": "example/convex" }`. */
  copy: Record<string, string>;
  /** convex.json of the host. */
  convexJson?: object;
}): Host {
  if (!existsSync(join(repo, "dist", "component", "convex.config.js"))) {
    throw new Error("convex host: dist/ is missing; run `npm run build` first");
  }
  const dir = mkdtempSync(join(tmpdir(), "convex-host-"));
  const modules = join(dir, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(repo, "node_modules"))) {
    if (name === "convex-guard") continue;
    symlinkSync(join(repo, "node_modules", name), join(modules, name));
  }
  symlinkSync(repo, join(modules, "convex-guard"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "convex-guard-host",
      private: true,
      type: "module",
      dependencies: { convex: "*", "convex-guard": "*" },
    }),
  );
  if (opts.convexJson) writeFileSync(join(dir, "convex.json"), JSON.stringify(opts.convexJson));
  for (const [to, from] of Object.entries(opts.copy)) {
    cpSync(join(repo, from), join(dir, to), {
      recursive: true,
      filter: (src) => !src.includes("node_modules"),
    });
  }
  return {
    dir,
    cliMain: cliMainIn(dir),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `convex deploy --write-push-request`: bundles `convex/` in `projectDir` and writes what a push would send. */
export function bundle(projectDir: string, outFile: string): { ok: boolean; output: string } {
  const r = spawnSync(
    process.execPath,
    [
      cliMainIn(projectDir),
      "deploy",
      "--url",
      "http://127.0.0.1:9",
      "--admin-key",
      "bundle-only",
      "--write-push-request",
      outFile.replace(/\.json$/, ""),
      "--push-all-modules",
      "--codegen",
      "disable",
      "--typecheck",
      "disable",
      "-y",
    ],
    {
      cwd: projectDir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, CONVEX_DEPLOYMENT: "", CONVEX_DEPLOY_KEY: "", CI: "true" },
    },
  );
  return {
    ok: r.status === 0 && existsSync(outFile),
    output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ?? ""}`,
  };
}
