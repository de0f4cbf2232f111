#!/bin/sh
# Refreshes the vendored QR decoder of the browser verifier, jsQR (Apache-2.0,
# https://github.com/cozmo/jsQR), from the npm registry: site/jsqr.js is the package's
# dist/jsQR.js, unchanged, and site/jsqr-LICENSE.txt its licence. The version and the
# registry's integrity hash are pinned here; to move to another version change both, run
# this script, and commit the result with JSQR_VERSION below.
#
#   sh wallet/verifier/vendor-jsqr.sh
set -eu
JSQR_VERSION=1.4.0
JSQR_INTEGRITY=sha512-dxLob7q65Xg2DvstYkRpkYtmKm2sPJ9oFhrhmudT1dZvNFFTlroai3AWSpLey/w5vMcLBXRgOJsbXpdN9HzU/A==

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "jsqr@$JSQR_VERSION" >/dev/null
got=$(npm view "jsqr@$JSQR_VERSION" dist.integrity)
want_file=$(printf '%s' "$JSQR_INTEGRITY" | cut -d- -f2-)
have_file=$(openssl dgst -sha512 -binary "jsqr-$JSQR_VERSION.tgz" | base64 | tr -d '\n')
if [ "$got" != "$JSQR_INTEGRITY" ] || [ "$have_file" != "$want_file" ]; then
	echo "vendor-jsqr: integrity mismatch for jsqr@$JSQR_VERSION (registry $got, file sha512-$have_file)" >&2
	exit 1
fi
tar xzf "jsqr-$JSQR_VERSION.tgz"
cp package/dist/jsQR.js "$here/site/jsqr.js"
cp package/LICENSE "$here/site/jsqr-LICENSE.txt"
echo "vendored jsqr@$JSQR_VERSION into $here/site"
