#!/usr/bin/env bash
# Refresh the Swagger UI and ReDoc files the service serves itself (app/static/docs), from npm.
# The service never loads them from a CDN, so /docs and /redoc work without internet.
set -euo pipefail
SWAGGER_UI=5.35.0
REDOC=2.5.4
out="$(cd "$(dirname "$0")/.." && pwd)/app/static/docs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null
mkdir s r
tar xzf "swagger-ui-dist-$SWAGGER_UI.tgz" -C s
tar xzf "redoc-$REDOC.tgz" -C r
cp s/package/swagger-ui-bundle.js s/package/swagger-ui.css s/package/favicon-32x32.png "$out/"
cp s/package/LICENSE "$out/LICENSE.swagger-ui"
cp r/package/bundles/redoc.standalone.js "$out/"
cp r/package/LICENSE "$out/LICENSE.redoc"
echo "swagger-ui-dist $SWAGGER_UI and redoc $REDOC copied to $out"
