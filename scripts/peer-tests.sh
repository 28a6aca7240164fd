#!/usr/bin/env bash
# Runs the client and React tests that @convex-dev/rate-limiter 0.4.0 ships in
# its npm package against convex-guard's sources, changing only the imports
# and the component name (the drop-in promise of docs/migrating-from-rate-limiter.md).
# The test files are generated from node_modules into .tmp/peer-tests (git-
# ignored) at every run; nothing of the peer's is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PEER=node_modules/@convex-dev/rate-limiter/src
OUT=.tmp/peer-tests
rm -rf "$OUT"
mkdir -p "$OUT/client" "$OUT/react"

# The only changes: where RateLimiter & co. come from, and `components.guard`.
sed -e 's#from "./index.js"#from "convex-guard"#' \
  -e 's#components\.rateLimiter#components.guard#g' \
  "$PEER/client/index.test.ts" >"$OUT/client/index.test.ts"
sed -e 's#from "../component/_generated/component.js"#from "convex-guard/_generated/component"#' \
  -e 's#from "../test.js"#from "convex-guard/test"#' \
  -e 's#rateLimiter: ComponentApi#guard: ComponentApi#' \
  "$PEER/client/setup.test.ts" >"$OUT/client/setup.test.ts"
sed -e 's#from "./index.js"#from "convex-guard/react"#' \
  -e 's#from "../shared.js"#from "convex-guard"#' \
  "$PEER/react/index.test.ts" >"$OUT/react/index.test.ts"

# Show every changed line, so a reader can check that nothing else changed.
for f in client/index.test.ts client/setup.test.ts react/index.test.ts; do
  diff "$PEER/$f" "$OUT/$f" || true
done

cat >"$OUT/vitest.config.ts" <<EOF
import { defineConfig } from "vitest/config";
const src = (p: string) => "$ROOT/src/" + p;
export default defineConfig({
  resolve: {
    alias: [
      { find: /^convex-guard\/react$/, replacement: src("react/index.ts") },
      { find: /^convex-guard\/test$/, replacement: src("test.ts") },
      { find: /^convex-guard\/_generated\/component$/, replacement: src("component/_generated/component.ts") },
      { find: /^convex-guard$/, replacement: src("client/index.ts") },
    ],
  },
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: ["client/index.test.ts", "react/index.test.ts"],
    testTimeout: 60_000,
  },
});
EOF

npx vitest run --root "$OUT" --config vitest.config.ts "$@"
