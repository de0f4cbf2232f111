#!/bin/sh
# Refreshes the vendored axe-core (npm registry; MPL-2.0, see LICENSE.axe-core) used by
# browsertest.CheckA11y. Usage: internal/browsertest/axe/update.sh [VERSION]
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "axe-core@${1:-4.14.1}" >/dev/null && tar xzf axe-core-*.tgz)
cp "$tmp/package/axe.min.js" axe.min.js
cp "$tmp/package/LICENSE" LICENSE.axe-core
grep -o 'axe v[0-9.]*' axe.min.js | head -1
