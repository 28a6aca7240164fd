#!/usr/bin/env bash
# Proves the published shape works: packs convex-guard with `npm pack`, installs the
# tarball into a fresh consumer project (outside this repo), checks what the tarball
# holds (dist/, docs, no sources), generates that app's _generated/ with the official CLI
# (offline; its analysis loads every module without the deployment's environment, so a
# Confirmations whose secret is unset must load), typechecks it against the package's
# dist types (strict, and with exactOptionalPropertyTypes), runs a convex-test suite that
# registers the component through `convex-guard/test` (including a Confirmations built
# without its secret, whose first use must name it), bundles the app with the official
# CLI, loads `convex-guard` and `convex-guard/test` in plain Node, and installs the
# committed HEAD from git (the `prepare` script builds dist/) and imports it.
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
  /^(src|test|bench|scripts|example|\.ci|\.tmp|node_modules)\//.test(f) || /\.(test|test-d|spec)\.(d\.)?[cm]?[jt]sx?(\.map)?$/.test(f),
);
// docs/: the README's links point there, so they must resolve in node_modules too.
const required = ["LICENSE", "README.md", "SECURITY.md", "docs/rate-limits.md", "docs/testing.md", "package.json",
  "dist/client/index.js", "dist/client/index.d.ts", "dist/test.js", "dist/test.d.ts", "dist/component/convex.config.js",
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
  "scripts": { "test": "tsc --noEmit && tsc --noEmit -p tsconfig.exact.json && vitest run" }
}
JSON
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$work/$tarball" "convex@$(dep convex)" "convex-test@$(dep convex-test)" "vitest@$(dep vitest)" \
  "@edge-runtime/vm@$(dep @edge-runtime/vm)" "typescript@$(dep typescript)" "@types/node@$(dep @types/node)"
# The official CLI generates the app's _generated/ (against the loopback stand-in, so no deployment).
npx --prefix "$repo" tsx "$repo/scripts/official-codegen.ts" --project "$consumer"
npm test
npx --prefix "$repo" tsx "$repo/scripts/bundle-check.ts" --project "$consumer"
# Plain Node (no bundler, no vitest): the package and its test helper load as built JavaScript.
node --input-type=module -e '
const guard = await import("convex-guard");
const helper = await import("convex-guard/test");
for (const [what, ok] of [["RateLimiter", typeof guard.RateLimiter === "function"],
  ["register", typeof helper.default.register === "function"], ["settle", typeof helper.settle === "function"]]) {
  if (!ok) { console.error(`pack-check: plain Node import lacks ${what}`); process.exit(1); }
}'
echo "pack-check: the packed tarball installs, typechecks, passes its consumer tests and loads in plain Node"

# From the repository: npm clones the committed HEAD, installs its devDependencies and
# runs `prepare` (the build), then installs the result as it would a tarball.
if git -C "$repo" rev-parse --verify -q HEAD >/dev/null; then
  fromgit="$work/from-git"
  mkdir -p "$fromgit"
  cd "$fromgit"
  echo '{ "name": "convex-guard-from-git", "private": true, "type": "module" }' > package.json
  npm install --no-audit --no-fund --prefer-offline --loglevel=error \
    "git+file://$repo#$(git -C "$repo" rev-parse HEAD)" "convex@$(dep convex)"
  node --input-type=module -e '
const guard = await import("convex-guard");
const config = await import("convex-guard/convex.config.js");
if (typeof guard.Confirmations !== "function" || config.default === undefined) process.exit(1);'
  echo "pack-check: installing from git builds dist/ and imports"
fi
