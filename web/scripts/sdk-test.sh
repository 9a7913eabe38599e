#!/usr/bin/env bash
# The TypeScript SDK (web/sdk) and its example bot (web/examples/bot): build with tsc, check
# that the generated OpenAPI types match handlers/openapi.json, then run their node tests
# against the real release binary. Installs nothing globally.
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$web/.." && pwd)"
cd "$web"

# npm ci only when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ ! -e sdk/node_modules/.bin/tsc ] || [ ! -e node_modules/ws ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "--> sdk: generated types match handlers/openapi.json"
npm run --silent check-types -w sdk

echo "--> sdk: build (tsc)"
npm run --silent build -w sdk
npm run --silent typecheck-consumer -w sdk

bin="${CLICKCLACK_BIN:-$root/target/release/clickclack}"
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p clickclack)
fi

echo "--> sdk + example bot: node tests against $bin"
CLICKCLACK_BIN="$bin" node --test --test-concurrency=1 sdk/test/*.test.mjs examples/bot/test/*.test.mjs
