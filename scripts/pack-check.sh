#!/usr/bin/env bash
# Proves the published shape works: packs convex-guard with `npm pack`, installs the
# tarball into a fresh consumer project (outside this repo), checks what the tarball
# holds, generates that app's _generated/ with the official CLI (offline), typechecks it
# against the package's dist types, runs a convex-test suite that registers the
# component through `convex-guard/test`, and bundles the app with the official CLI.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$repo"
[ -d dist ] || npm run build
npm pack --json --silent --pack-destination "$work" > "$work/pack.json"
tarball="$(node -p "require('$work/pack.json')[0].filename")"

# What ships: the package's own files only, never tests, benchmarks or repo tooling.
node - "$work/pack.json" <<'NODE'
const [info] = require(process.argv[2]);
const files = info.files.map((f) => f.path);
const banned = files.filter((f) =>
  /^(test|bench|scripts|example|\.ci|\.tmp|node_modules)\//.test(f) || /\.(test|test-d|spec)\.(d\.)?[cm]?[jt]sx?(\.map)?$/.test(f),
);
// docs/: the README's links point there, so they must resolve in node_modules too.
const required = ["LICENSE", "README.md", "docs/rate-limits.md", "package.json", "dist/client/index.js", "dist/component/convex.config.js",
  "dist/component/_generated/component.d.ts", "dist/component/_generated/api.js"];
const missing = required.filter((f) => !files.includes(f));
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`pack-check: ${info.filename}: ${info.entryCount} files, ${kib(info.size)} packed, ${kib(info.unpackedSize)} unpacked`);
if (banned.length || missing.length) {
  if (banned.length) console.error(`pack-check: the tarball must not contain:\n  ${banned.join("\n  ")}`);
  if (missing.length) console.error(`pack-check: the tarball lacks:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
NODE

consumer="$work/consumer"
mkdir -p "$consumer"
cp -R "$repo/scripts/pack-consumer/." "$consumer/"
cd "$consumer"
dep() { node -p "require('$repo/package.json').devDependencies['$1']"; }
cat > package.json <<JSON
{
  "name": "convex-guard-consumer",
  "private": true,
  "type": "module",
  "scripts": { "test": "tsc --noEmit && vitest run" }
}
JSON
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$work/$tarball" "convex@$(dep convex)" "convex-test@$(dep convex-test)" "vitest@$(dep vitest)" \
  "@edge-runtime/vm@$(dep @edge-runtime/vm)" "typescript@$(dep typescript)" "@types/node@$(dep @types/node)"
# The official CLI generates the app's _generated/ (against the loopback stand-in, so no deployment).
npx --prefix "$repo" tsx "$repo/scripts/official-codegen.ts" --project "$consumer"
npm test
npx --prefix "$repo" tsx "$repo/scripts/bundle-check.ts" --project "$consumer"
echo "pack-check: the packed tarball installs, typechecks and passes its consumer tests"
