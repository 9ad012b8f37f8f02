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

# apt_provision WHAT "PACKAGES" TOOL... installs Debian's PACKAGES with
# apt-get, only when one of the TOOLs is absent; WHAT names the tests that
# need them in the messages.
apt_provision() {
  local what=$1 packages=$2 missing=()
  shift 2
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "$what: ${missing[*]} missing; installing $packages with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "$what: need root to apt-get install $packages; install them (the $what tests fail without them)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # packages is a word list
  apt-get update -qq >/dev/null &&
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
}

db_provision
# LibreOffice Calc and poppler print and read the exports (print tests);
# chromium runs the console's browser tests (chromedp).
apt_provision print "libreoffice-calc poppler-utils" soffice pdfinfo pdftotext
apt_provision console chromium chromium
go vet ./...
go test -count=1 "$@" ./...
