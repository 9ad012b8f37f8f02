#!/usr/bin/env bash
# Runs every titular test. Provisions a MySQL-compatible server first (see
# scripts/db.sh): the integration and API tests run against a real database
# and never skip. The print tests read the exports as a person's tools do
# (LibreOffice prints the XLSX, poppler reads the PDFs): they are installed
# here when missing, and those tests fail, never skip, without them.
# Extra arguments are `go test` flags (e.g. -run TestExtract -v).
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Go toolchain (as in go.mod and the Makefile): overrides GOTOOLCHAIN=local
# on purpose, since go1.26.8 has standard-library vulnerabilities titular reaches.
export GOTOOLCHAIN=go1.27.3
# shellcheck source=scripts/db.sh
source scripts/db.sh

# print_tools_provision installs LibreOffice Calc (soffice) and poppler
# (pdfinfo, pdftotext) with apt-get, only when one of them is absent.
print_tools_provision() {
  local missing=()
  for tool in soffice pdfinfo pdftotext; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "print: ${missing[*]} missing; installing libreoffice-calc and poppler-utils with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "print: need root to apt-get install libreoffice-calc poppler-utils; install them (the print tests fail without them)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null &&
    apt-get install -y -qq --no-install-recommends libreoffice-calc poppler-utils >/dev/null
}

# chromium_provision installs Debian's chromium, which the console's
# browser tests drive (chromedp), only when it is absent.
chromium_provision() {
  command -v chromium >/dev/null && return 0
  echo "console: chromium missing; installing it with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "console: need root to apt-get install chromium; install it (the console browser tests fail without it)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null &&
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

db_provision
print_tools_provision
chromium_provision
go vet ./...
go test -count=1 "$@" ./...
