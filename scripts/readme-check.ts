/**
 * Typechecks every ```ts block of README.md and docs/*.md against the package
 * sources, as files of a host app's `convex/` folder, so the docs cannot drift
 * from the API. A block whose first line is `// convex/<name>.ts` is written
 * under that name (other blocks may import it); any other block gets its own
 * file. A block whose first line is `// not checked` is skipped (use sparingly:
 * shell-like fragments only).
 *
 * Usage: tsx scripts/readme-check.ts   (part of `npm run typecheck`)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".tmp", "readme");
const docs = [
  "README.md",
  ...(existsSync(join(root, "docs"))
    ? readdirSync(join(root, "docs"))
        .sort()
        .map((f) => `docs/${f}`)
    : []),
].filter((f) => f.endsWith(".md"));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "convex"), { recursive: true });

let count = 0;
const origin = new Map<string, string>();
for (const doc of docs) {
  const text = readFileSync(join(root, doc), "utf8");
  const blocks = [...text.matchAll(/^```(ts|tsx|typescript)\n([\s\S]*?)^```/gm)];
  blocks.forEach(([, lang, body = ""], i) => {
    const [first = ""] = body.split("\n", 1).map((l) => l.trim());
    if (first === "// not checked") return;
    const named = /^\/\/ convex\/([\w./-]+\.tsx?)$/.exec(first);
    const file =
      named?.[1] ?? `${doc.replace(/[^\w]/g, "_")}_${i + 1}.${lang === "tsx" ? "tsx" : "ts"}`;
    const path = join(out, "convex", file);
    if (origin.has(file))
      throw new Error(`readme-check: ${file} is named by ${origin.get(file)} and ${doc}`);
    origin.set(file, doc);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    count++;
  });
}
if (!origin.has("convex.config.ts")) {
  writeFileSync(
    join(out, "convex", "convex.config.ts"),
    `import { defineApp } from "convex/server";\nimport guard from "convex-guard/convex.config.js";\nconst app = defineApp();\napp.use(guard);\nexport default app;\n`,
  );
}
const paths = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8").replace(/\/\/.*$/gm, ""))
  .compilerOptions.paths as Record<string, string[]>;
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify(
    {
      extends: relative(out, join(root, "tsconfig.json")),
      compilerOptions: {
        baseUrl: ".",
        noUnusedLocals: false,
        paths: Object.fromEntries(
          Object.entries(paths).map(([k, v]) => [k, v.map((p) => relative(out, join(root, p)))]),
        ),
      },
      include: ["convex"],
      exclude: [],
    },
    null,
    2,
  ),
);
const tsx = join(root, "node_modules", ".bin", "tsx");
execFileSync(tsx, [join(root, "scripts", "codegen.ts"), "--app", join(out, "convex")], {
  stdio: "ignore",
});
try {
  execFileSync(
    join(root, "node_modules", ".bin", "tsc"),
    ["--noEmit", "-p", join(out, "tsconfig.json")],
    {
      stdio: "pipe",
      encoding: "utf8",
    },
  );
} catch (e) {
  const output = String((e as { stdout?: string }).stdout ?? e);
  // Point each error back at the document it came from.
  console.error(
    output.replace(/convex\/([\w./-]+\.tsx?)/g, (m, file: string) =>
      origin.has(file) ? `${m} (from ${origin.get(file)})` : m,
    ),
  );
  process.exit(1);
}
console.log(`readme-check: ${count} code blocks from ${docs.length} documents typecheck`);
