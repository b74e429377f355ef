#!/usr/bin/env bash
# Fails when the committed TypeScript in gen/ differs from what the .proto files generate.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
buf generate --template buf.gen.yaml -o "$tmp"
if ! diff -r "$tmp/gen" gen >/dev/null; then
  diff -ru gen "$tmp/gen" | head -40 || true
  echo "proto/gen is out of date: run 'npm run proto:generate' and commit the result." >&2
  exit 1
fi
echo "proto/gen matches the .proto files"
