/**
 * Bundles a host app and convex-guard with the official Convex CLI, as a
 * deployment push would (`npx convex deploy --write-push-request`, which
 * writes the push request and stops before contacting anything), and fails if:
 *
 * - the CLI fails;
 * - any module is a Node module (`"use node"`) or imports a Node builtin
 *   (components run only in Convex's default runtime);
 * - the modules of the component that export public functions are not the
 *   modules its committed `ComponentApi` promises hosts (no more, no fewer).
 *
 * Modules are told apart by importing the bundles in Node and reading their
 * registered functions (scripts/convex/analyze.ts). Prints one table of the
 * bundled modules and their sizes.
 *
 * Usage: `npm run bundle:check` (the example app, with the package linked as
 * a consumer installs it; needs `npm run build`), or
 * `npm run bundle:check -- --project DIR` for a project that installed the
 * package (scripts/pack-check.sh passes its consumer).
 */
import { readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { mkdtempSync } from "node:fs";
import { analyze, type ModuleConfig, type PushRequest } from "./convex/analyze.js";
import { componentApiModules, compilerOptions } from "./convex/compareTypes.js";
import { bundle, makeHost, repo } from "./convex/host.js";

const projectArg = process.argv.indexOf("--project");
const failures: string[] = [];
const builtins = new Set(builtinModules);

/** Import specifiers left in a bundled module (relative `_deps` chunks are expected). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*|\brequire\s*\(\s*)["']([^"'\s]+)["']/g;
  for (const [, spec] of source.matchAll(re)) if (spec !== undefined) out.push(spec);
  return out;
}

function checkModule(owner: string, m: ModuleConfig): void {
  if (m.environment !== "isolate")
    failures.push(`${owner} ${m.path}: bundled for the "${m.environment}" runtime`);
  if (/^\s*(?:\/\/[^\n]*\n\s*)*["']use node["']/.test(m.source))
    failures.push(`${owner} ${m.path}: "use node"`);
  for (const spec of importsOf(m.source)) {
    if (spec.startsWith("node:") || builtins.has(spec.replace(/\/.*$/s, ""))) {
      failures.push(`${owner} ${m.path}: imports the Node builtin "${spec}"`);
    } else if (!spec.startsWith(".")) {
      failures.push(`${owner} ${m.path}: leaves "${spec}" unbundled`);
    }
  }
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function check(projectDir: string, label: string): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), "bundle-check-"));
  try {
    const file = join(out, "push.json");
    const run = bundle(projectDir, file);
    if (!run.ok) {
      failures.push(`${label}: \`convex deploy --write-push-request\` failed:\n${run.output}`);
      return;
    }
    const request = JSON.parse(readFileSync(file, "utf8")) as PushRequest;
    const analysis = await analyze(request, out);
    const rows: string[][] = [];
    const owners = [
      { path: "", name: "app", modules: request.appDefinition.changedModules },
      ...request.componentDefinitions.map((c) => ({
        path: c.definitionPath,
        name:
          (analysis[c.definitionPath]?.definition.definitionType as { name?: string }).name ??
          c.definitionPath,
        modules: c.functions,
      })),
    ];
    for (const owner of owners) {
      for (const m of owner.modules) checkModule(owner.name, m);
      const helpers = { count: 0, bytes: 0 };
      const deps = { count: 0, bytes: 0 };
      for (const m of [...owner.modules].sort((a, b) => (a.path < b.path ? -1 : 1))) {
        const fns = analysis[owner.path]?.functions[m.path]?.functions ?? [];
        const bucket = m.path.startsWith("_deps/") ? deps : fns.length === 0 ? helpers : null;
        if (bucket) {
          bucket.count += 1;
          bucket.bytes += m.source.length;
          continue;
        }
        const pub = fns.filter((f) => f.visibility?.kind === "public").length;
        rows.push([owner.name, m.path, `${pub}/${fns.length}`, kib(m.source.length)]);
      }
      if (helpers.count)
        rows.push([
          owner.name,
          `${helpers.count} modules without functions`,
          "",
          kib(helpers.bytes),
        ]);
      if (deps.count)
        rows.push([owner.name, `_deps/: ${deps.count} shared chunks`, "", kib(deps.bytes)]);
    }
    const guard = owners.find((o) => o.name === "guard");
    if (!guard) {
      failures.push(
        `${label}: no component named "guard" was bundled (found: ${owners.map((o) => o.name).join(", ")})`,
      );
    } else {
      const expected = componentApiModules(
        join(repo, "src/component/_generated/component.ts"),
        compilerOptions(join(repo, "tsconfig.json")),
        out,
      );
      const actual = Object.entries(analysis[guard.path]!.functions)
        .filter(([, m]) => m.functions.some((f) => f.visibility?.kind === "public"))
        .map(([path]) => path.replace(/\.js$/, ""))
        .sort();
      const extra = actual.filter((m) => !expected.includes(m));
      const missing = expected.filter((m) => !actual.includes(m));
      if (extra.length > 0)
        failures.push(
          `${label}: component modules with public functions not in ComponentApi: ${extra.join(", ")}`,
        );
      if (missing.length > 0)
        failures.push(`${label}: ComponentApi modules the bundle lacks: ${missing.join(", ")}`);
    }
    const widths = [0, 1, 2, 3].map((i) =>
      Math.max(
        ...[["in", "module", "public/all fns", "size"], ...rows].map((r) => (r[i] ?? "").length),
      ),
    );
    const line = (r: string[]) =>
      `  ${r.map((c, i) => (i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ")}`;
    const total = owners.flatMap((o) => o.modules).reduce((n, m) => n + m.source.length, 0);
    console.log(`bundle-check: ${label}: bundled by the official CLI, ${kib(total)} in all`);
    console.log([line(["in", "module", "public/all fns", "size"]), ...rows.map(line)].join("\n"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (projectArg !== -1) {
  const dir = process.argv[projectArg + 1];
  if (!dir) throw new Error("bundle-check: --project needs a directory");
  await check(resolve(dir), "packed-tarball consumer");
} else {
  const host = makeHost({ copy: { convex: "example/convex" } });
  try {
    await check(host.dir, "example app");
  } finally {
    host.cleanup();
  }
}
if (failures.length > 0) {
  console.error(`bundle-check: FAILED\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
