#!/usr/bin/env bash
# Scans titular for known vulnerabilities with govulncheck (pinned, installed
# into .bin/) against a local copy of the Go vulnerability database: the public
# endpoint is unreachable from our build machines, so the database is built
# here from the golang.org/x/vulndb module (pinned below, fetched through the
# module proxy and checked against its go.sum hash) by that module's own
# cmd/indexdb, which turns data/osv/*.json into the v1 layout govulncheck reads
# (index/db.json, index/modules.json, ID/GO-….json). The result is cached in
# .bin/vulndb/VERSION and rebuilt only when the pin changes.
#
# govulncheck's text mode fails (exit 3) only on vulnerabilities whose
# vulnerable symbols titular's code reaches; those imported or required but
# not called are summarised and do not fail. A reachable finding fails the run
# unless scripts/vulncheck-allow.txt lists its ID with the reason it is
# accepted (not fixable yet, not exploitable here, …). Extra arguments are
# passed to govulncheck (e.g. -show verbose).
#
# To refresh the database: `go list -m golang.org/x/vulndb@latest` (or
# `go mod download -json golang.org/x/vulndb@latest`) gives a newer
# pseudo-version and its Sum; put both below.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Go toolchain (as in go.mod and the Makefile): overrides GOTOOLCHAIN=local
# on purpose; the standard library scanned is the one of the toolchain that runs.
export GOTOOLCHAIN=go1.27.3
GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
VULNDB_SUM=h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI=
ALLOW=scripts/vulncheck-allow.txt
BIN=$PWD/.bin
DB=$BIN/vulndb/$VULNDB_VERSION

log() { echo "vulncheck: $*" >&2; }

# The scan is only worth something on the toolchain titular ships with.
goversion=$(go env GOVERSION)
want=$(sed -n 's/^toolchain[[:space:]]*//p' go.mod)
if [[ -n $want && $goversion != "$want" ]]; then
  log "running $goversion but go.mod's toolchain is $want: update the GOTOOLCHAIN pins"; exit 1
fi

# govulncheck, reinstalled when missing, another version, or built by another Go
# (it type-checks the standard library with its own go/types).
built() { # binary: "goX.Y.Z vN" (the Go that built it, its main module's version)
  go version -m "$1" 2>/dev/null | awk 'NR==1{g=$2} $1=="mod"{m=$3} END{print g, m}'
}
if [[ $(built "$BIN/govulncheck") != "$goversion $GOVULNCHECK_VERSION" ]]; then
  log "installing govulncheck $GOVULNCHECK_VERSION built with $goversion into .bin/"
  GOBIN=$BIN go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi

# The database, built once per vulndb version.
if [[ ! -s $DB/index/modules.json ]]; then
  log "building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION into .bin/vulndb/"
  info=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")
  field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$info"; }
  src=$(field Dir) sum=$(field Sum)
  if [[ $sum != "$VULNDB_SUM" ]]; then
    log "golang.org/x/vulndb@$VULNDB_VERSION has hash ${sum:-none}, want $VULNDB_SUM"; exit 1
  fi
  [[ -d $src/data/osv ]] || { log "no data/osv in $src"; exit 1; }
  tmp=$DB.tmp.$$
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$tmp"
  # The OSV files in the module carry no modification times (upstream's gendb
  # takes them from git history), so indexdb writes a zero "modified"; record
  # the vulndb commit's time from the pseudo-version instead, so govulncheck
  # reports how old the data is. govulncheck reads a local database's .json
  # files only: drop the .json.gz copies.
  ts=${VULNDB_VERSION#v0.0.0-}; ts=${ts%%-*}
  printf '{"modified":"%s-%s-%sT%s:%s:%sZ"}' "${ts:0:4}" "${ts:4:2}" "${ts:6:2}" "${ts:8:2}" "${ts:10:2}" "${ts:12:2}" >"$tmp/index/db.json"
  find "$tmp" -name '*.json.gz' -delete
  rm -rf "$DB"
  mv "$tmp" "$DB"
  trap - EXIT
fi

# The scan. Exit 0: nothing reachable; 3: reachable vulnerabilities; else an error.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$BIN/govulncheck" -db "file://$DB" "$@" ./... | tee "$out" || rc=$?
case $rc in
  0) ;;
  3) ;;
  *) log "govulncheck failed (exit $rc)"; exit "$rc" ;;
esac

# Reachable findings are the "Vulnerability #N: GO-…" entries of the text
# output (with -show verbose, those before "=== Package Results ===").
mapfile -t found < <(sed '/^=== Package Results ===/,$d' "$out" | sed -n 's/^Vulnerability #[0-9]*: \(GO-[0-9]*-[0-9]*\).*/\1/p' | sort -u)
if [[ $rc -eq 3 && ${#found[@]} -eq 0 ]]; then
  log "govulncheck reported vulnerabilities but none could be read from its output"; exit 1
fi
allowed() { grep -qE "^$1([[:space:]]|\$)" "$ALLOW" 2>/dev/null; }
unexplained=()
for id in "${found[@]}"; do
  if allowed "$id"; then
    log "$id is reachable but accepted: $(sed -n "s/^$id[[:space:]]*//p" "$ALLOW")"
  else
    unexplained+=("$id")
  fi
done
# Entries that no longer match keep nothing safe: say so, so the list stays short.
while read -r id _; do
  [[ $id == GO-* ]] || continue
  [[ " ${found[*]} " == *" $id "* ]] || log "note: $id in $ALLOW is no longer reported; remove it"
done < <(grep -v '^[[:space:]]*#' "$ALLOW" 2>/dev/null || true)
if ((${#unexplained[@]})); then
  log "FAILED: reachable vulnerabilities neither fixed nor explained in $ALLOW: ${unexplained[*]}"
  log "fix them (upgrade the module, or the toolchain for the standard library) or add 'ID reason' lines"
  exit 1
fi
log "ok: no unexplained reachable vulnerabilities (govulncheck $GOVULNCHECK_VERSION, $goversion, golang.org/x/vulndb@$VULNDB_VERSION)"
