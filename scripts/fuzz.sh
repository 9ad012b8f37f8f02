#!/usr/bin/env bash
# Runs every fuzz target of the HTTP/JSON entry points and the parsers for a
# bounded time each (FUZZTIME, default 15s), so CI looks for new crashes on
# every run; `make test` already replays their seed corpora and every input
# saved under testdata/fuzz (earlier findings). A failing input is written to
# the package's testdata/fuzz/: commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Go toolchain, as in go.mod, the Makefile and scripts/test.sh.
export GOTOOLCHAIN=go1.27.3
# shellcheck source=scripts/db.sh
source scripts/db.sh
db_provision
fuzztime=${FUZZTIME:-15s}
targets=(
  ./server:FuzzREST
  ./brdoc:FuzzNormalizeCPF
  ./brdoc:FuzzNormalizePhone
  ./brdoc:FuzzNormalizeEmail
  ./datamap:FuzzParse
  ./ledger:FuzzUnmarshal
)
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  echo "fuzz $pkg $name for $fuzztime"
  # The server's output is its JSON log: keep only the fuzzer's lines.
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2 2>&1 | grep -v '^{' | tail -n 20
  test "${PIPESTATUS[0]}" -eq 0
done
