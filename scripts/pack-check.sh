#!/usr/bin/env bash
# Proves the published shape works: packs convex-guard with `npm pack`, installs the
# tarball into a fresh consumer project (outside this repo), generates that app's
# _generated/ offline, typechecks it against the package's dist types, and runs a
# convex-test suite that registers the component through `convex-guard/test`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$repo"
[ -d dist ] || npm run build
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "pack-check: packed $tarball ($(du -h "$work/$tarball" | cut -f1))"

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
npx --prefix "$repo" tsx "$repo/scripts/codegen.ts" --app convex
npm test
echo "pack-check: the packed tarball installs, typechecks and passes its consumer tests"
