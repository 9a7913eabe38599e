#!/usr/bin/env bash
# Rebuilds the web app into a temp dir and fails if it differs from the committed web/dist.
# The bundle is embedded into the Rust binary, so web/dist must always match web/app.
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
CLICKCLACK_WEB_OUT="$out" npm run --silent build -w app >/dev/null
if diff -r "$out" "$web/dist" >/dev/null; then
  echo "web/dist is up to date"
else
  echo "web/dist is stale: run 'npm run build' in web/ and commit web/dist" >&2
  diff -rq "$out" "$web/dist" >&2 || true
  exit 1
fi
