#!/usr/bin/env bash
# Lints the OpenAPI document generated from proto/ (api/lgpd/v1/titular.swagger.json)
# with swagger-cli and redocly (rules in redocly.yaml; warnings fail). Both are
# pinned npm packages installed into .bin/npm, never globally; they are
# reinstalled only when the pinned versions change.
set -euo pipefail
cd "$(dirname "$0")/.."
SWAGGER_CLI_VERSION=4.0.4
REDOCLY_VERSION=2.77.0
SPEC=api/lgpd/v1/titular.swagger.json
TOOLS=.bin/npm

command -v npm >/dev/null || { echo "openapi-lint: npm (Node.js 20+) is required to run the OpenAPI linters" >&2; exit 1; }
installed() { # package
  node -p "require('./$TOOLS/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [[ $(installed @apidevtools/swagger-cli) != "$SWAGGER_CLI_VERSION" || $(installed @redocly/cli) != "$REDOCLY_VERSION" ]]; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact \
    "@apidevtools/swagger-cli@$SWAGGER_CLI_VERSION" "@redocly/cli@$REDOCLY_VERSION" >&2
fi
"$TOOLS/node_modules/.bin/swagger-cli" validate "$SPEC"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$TOOLS/node_modules/.bin/redocly" lint --config redocly.yaml "$SPEC"
