#!/usr/bin/env bash
# update.sh refreshes the Swagger UI files in dist/ from the pinned npm package
# swagger-ui-dist. Edit VERSION and INTEGRITY (from
# `npm view swagger-ui-dist@<version> dist.integrity`) and run it from anywhere:
#
#   adapters/httpapi/docsui/update.sh
#
# It copies only what the docs page loads (the bundle, the stylesheet and an
# icon) plus the license files, and drops the source map reference.
set -euo pipefail

VERSION=5.35.0
INTEGRITY=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null)
tarball="$tmp/swagger-ui-dist-$VERSION.tgz"
got=$(node -e 'const c = require("crypto"), fs = require("fs");
console.log("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
if [[ "$got" != "$INTEGRITY" ]]; then
	echo "update.sh: swagger-ui-dist@$VERSION has integrity $got, want $INTEGRITY" >&2
	exit 1
fi
tar -xzf "$tarball" -C "$tmp"
pkg="$tmp/package"

rm -rf "$here/dist"
mkdir "$here/dist"
cp "$pkg/swagger-ui-bundle.js" "$pkg/swagger-ui-bundle.js.LICENSE.txt" \
	"$pkg/favicon-32x32.png" "$pkg/LICENSE" "$pkg/NOTICE" "$here/dist/"
# The stylesheet ends with a sourceMappingURL comment; the map is not shipped.
sed '/sourceMappingURL=/d' "$pkg/swagger-ui.css" >"$here/dist/swagger-ui.css"
if grep -l 'sourceMappingURL=' "$here"/dist/*.js "$here"/dist/*.css; then
	echo "update.sh: a shipped file still names a source map" >&2
	exit 1
fi
# The big files ship gzipped: the binary stays small, and browsers take the
# gzip bytes as they are (docsui.go inflates them only for clients that do
# not accept gzip).
gzip -9 -n "$here/dist/swagger-ui-bundle.js" "$here/dist/swagger-ui.css"
echo "$VERSION" >"$here/dist/VERSION"
du -ch "$here"/dist/* | tail -n 1
