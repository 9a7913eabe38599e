#!/usr/bin/env bash
# Browser end-to-end tests: the real release binary + Debian's Chromium via playwright-core.
# Installs what is missing (chromium, npm packages, the release binary), then runs the tests.
#   UPDATE_SCREENSHOTS=1 web/scripts/e2e.sh   also refreshes docs/screenshots/*.png
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$web/.." && pwd)"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Color emoji for reactions in screenshots; optional.
if [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null 2>&1 || true
fi

cd "$web"
npm ci --no-audit --no-fund --loglevel=error

bin="${CLICKCLACK_BIN:-$root/target/release/clickclack}"
if [ ! -x "$bin" ] || [ -n "$(find "$web/dist" -newer "$bin" -print -quit)" ]; then
  (cd "$root" && cargo build --release -p clickclack)
fi

CLICKCLACK_BIN="$bin" node --test --test-concurrency=1 e2e/
