/**
 * Runs the official Convex CLI's `convex codegen` offline (against the
 * loopback stand-in in scripts/convex/standin.ts) and checks the committed
 * generated files against its output:
 *
 * 1. The component: `npx convex codegen --component-dir src/component` in a
 *    temporary host, compared with src/component/_generated/*.
 * 2. The example app: `npx convex codegen` with the package installed as a
 *    consumer installs it (`dist/`), compared with example/convex/_generated/*.
 * 3. A host with `codegen.legacyComponentApi: true` (component types inlined
 *    into the app's api.ts instead of imported): the example app must
 *    typecheck against it, so the clients accept that shape too.
 *
 * Files are compared by the types they export (scripts/convex/compareTypes.ts);
 * each difference names the file, export and function. Exits 1 on any.
 *
 * Usage: `npm run codegen:check` (CI), or `npm run codegen:check -- --write`
 * to copy the official files over the committed ones.
 * Needs `dist/` (`npm run build`): the app imports the package as published.
 */
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { compareGenerated, compilerOptions, type FilePair } from "./convex/compareTypes.js";
import { makeHost, repo, type Host } from "./convex/host.js";
import { runConvexCli } from "./convex/standin.js";

const write = process.argv.includes("--write");
const failures: string[] = [];

async function officialCodegen(host: Host, extra: string[]): Promise<boolean> {
  const run = await runConvexCli(
    host.cliMain,
    ["codegen", "--typecheck", "disable", ...extra],
    host.dir,
  );
  if (run.code !== 0 || run.unexpected.length > 0) {
    failures.push(
      `convex codegen ${extra.join(" ")} failed (exit ${run.code})\n${run.stdout}${run.stderr}${run.unexpected.join("\n")}`,
    );
    return false;
  }
  return true;
}

function pairs(committedDir: string, officialDir: string, label: string): FilePair[] {
  const names = new Set<string>();
  for (const dir of [committedDir, officialDir]) {
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith(".ts")) names.add(f);
  }
  return [...names].sort().map((name) => ({
    name: `${label}/${name}`,
    committed: existsSync(join(committedDir, name)) ? join(committedDir, name) : undefined,
    official: existsSync(join(officialDir, name)) ? join(officialDir, name) : undefined,
  }));
}

function report(label: string, diffs: string[]): void {
  if (diffs.length === 0) {
    console.log(`codegen-check: ${label}: committed files match the official CLI's`);
    return;
  }
  failures.push(
    `${label}: ${diffs.length} difference(s) from the official CLI's codegen:\n  ${diffs.join("\n  ")}`,
  );
}

function typecheckLegacyHost(host: Host): string[] {
  writeFileSync(
    join(host.dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "ESNext",
        moduleResolution: "Bundler",
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ["node"],
      },
      include: ["convex"],
      exclude: ["convex/**/*.test.ts"],
    }),
  );
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(host.dir, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => {},
    },
  )!;
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return ts
    .getPreEmitDiagnostics(program)
    .slice(0, 20)
    .map((d) => {
      const where = d.file
        ? `${d.file.fileName.slice(host.dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : "";
      // The first line says where, the last one why; the chain between is long.
      const chain = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n");
      const [head = ""] = chain;
      const first = head.length > 240 ? `${head.slice(0, 240)}…` : head;
      return chain.length > 1
        ? `${where} ${first}\n    … ${(chain.at(-1) ?? "").trim()}`
        : `${where} ${first}`;
    });
}

async function main(): Promise<void> {
  const options = compilerOptions(join(repo, "tsconfig.json"));
  const host = makeHost({
    copy: { convex: "example/convex", src: "src" },
    convexJson: { codegen: { fileType: "ts" } },
  });
  try {
    for (const dir of ["convex/_generated", "src/component/_generated"])
      rmSync(join(host.dir, dir), { recursive: true, force: true });
    const component = await officialCodegen(host, ["--component-dir", "src/component"]);
    const app = await officialCodegen(host, []);
    const targets = [
      {
        label: "src/component/_generated",
        ok: component,
        official: join(host.dir, "src/component/_generated"),
      },
      {
        label: "example/convex/_generated",
        ok: app,
        official: join(host.dir, "convex/_generated"),
      },
    ];
    const compared = targets.filter((t) => t.ok);
    if (write) {
      for (const t of compared) {
        const committed = join(repo, t.label);
        rmSync(committed, { recursive: true, force: true });
        cpSync(t.official, committed, { recursive: true });
        console.log(`codegen-check: wrote ${t.label} from the official CLI`);
      }
    } else if (compared.length > 0) {
      // One TypeScript program for every folder: loading the sources twice is the slow part.
      const all = compared.flatMap((t) => pairs(join(repo, t.label), t.official, t.label));
      report(compared.map((t) => t.label).join(" and "), compareGenerated(all, host.dir, options));
    }
    writeFileSync(
      join(host.dir, "convex.json"),
      JSON.stringify({ codegen: { fileType: "ts", legacyComponentApi: true } }),
    );
    if (await officialCodegen(host, [])) {
      const errors = typecheckLegacyHost(host);
      if (errors.length === 0)
        console.log("codegen-check: the example app typechecks in a legacyComponentApi host");
      else
        failures.push(
          `legacyComponentApi host: the example app does not typecheck:\n  ${errors.join("\n  ")}`,
        );
    }
  } finally {
    host.cleanup();
  }
  if (failures.length > 0) {
    console.error(`codegen-check: FAILED\n${failures.join("\n\n")}`);
    process.exit(1);
  }
}

await main();
