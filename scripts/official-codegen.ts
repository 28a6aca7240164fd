/**
 * Runs the official `npx convex codegen` in a Convex project without a
 * deployment: the CLI talks to the loopback stand-in (scripts/convex/standin.ts)
 * instead, and writes the project's `convex/_generated/` exactly as it would
 * after analysing a real push. The project's own `convex` package is used.
 *
 * Usage: `tsx scripts/official-codegen.ts --project DIR [codegen options]`,
 * e.g. `--component-dir src/component`. scripts/pack-check.sh runs it for its
 * consumer project.
 */
import { resolve } from "node:path";
import { cliMainIn } from "./convex/host.js";
import { runConvexCli } from "./convex/standin.js";

const args = process.argv.slice(2);
const at = args.indexOf("--project");
const dir = at === -1 ? process.cwd() : resolve(args[at + 1] ?? ".");
if (at !== -1) args.splice(at, 2);

const run = await runConvexCli(cliMainIn(dir), ["codegen", "--typecheck", "disable", ...args], dir);
if (run.code !== 0 || run.unexpected.length > 0) {
  console.error(
    `official-codegen: convex codegen failed (exit ${run.code})\n${run.stdout}${run.stderr}${run.unexpected.join("\n")}`,
  );
  process.exit(1);
}
console.log(`official-codegen: convex codegen wrote ${dir}/convex/_generated`);
