#!/usr/bin/env bash
# Runs every titular test. Provisions a MySQL-compatible server first (see
# scripts/db.sh): the integration and API tests run against a real database
# and never skip. Extra arguments are `go test` flags (e.g. -run TestExtract -v).
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Go toolchain (as in go.mod and the Makefile): overrides GOTOOLCHAIN=local
# on purpose, since go1.26.8 has standard-library vulnerabilities titular reaches.
export GOTOOLCHAIN=go1.27.3
# shellcheck source=scripts/db.sh
source scripts/db.sh
db_provision
go vet ./...
go test -count=1 "$@" ./...
