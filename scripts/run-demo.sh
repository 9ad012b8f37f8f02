#!/usr/bin/env bash
# Runs titular with the demo tenant ready: provisions a database the way the
# tests do (scripts/db.sh), seeds the demo real-estate CRM into titular_demo
# (once; --reseed to start over), migrates, prints working API keys and
# example calls, and serves until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Go toolchain (as in go.mod and the Makefile): overrides GOTOOLCHAIN=local
# on purpose, since go1.26.8 has standard-library vulnerabilities titular reaches.
export GOTOOLCHAIN=go1.27.3
# shellcheck source=scripts/db.sh
source scripts/db.sh
db_provision
export TITULAR_DEMO_DSN="${TITULAR_TEST_DSN%/}/titular_demo?parseTime=true"
SUBJECTS=${SUBJECTS:-2000}
mkdir -p bin
go build -o bin/titular ./cmd/titular
mkdir -p examples/realestate/.titular
scenarios=examples/realestate/.titular/demo-scenarios.txt
if [[ ${1:-} == --reseed ]] || [[ ! -s $scenarios ]] || ! bin/titular datamap check --config examples/realestate/titular.yaml >/dev/null 2>&1; then
  bin/titular seed --dsn "$TITULAR_DEMO_DSN" --subjects "$SUBJECTS" --reset | tee "$scenarios.tmp"
  mv "$scenarios.tmp" "$scenarios"
fi
bin/titular migrate --config examples/realestate/titular.yaml
# The demo's purposes and their terms in force (idempotent; see the file).
bin/titular purposes load --config examples/realestate/titular.yaml --tenant demo --file examples/realestate/purposes.yaml
bin/titular datamap check --config examples/realestate/titular.yaml
cpf=$(sed -n 's/^ *comprador_2023 *cpf=\([0-9]*\).*/\1/p' "$scenarios" | head -1)
cpf=${cpf:-CPF}
extract='{"kind":"EXTRACT","subject":{"cpf":"'$cpf'"}}'
confirm='{"tenant":"demo","kind":"CONFIRM","subject":{"cpf":"'$cpf'"}}'
grant='{"kind":"CONSENT","subject":{"cpf":"'$cpf'"},"consent":{"purpose":"marketing_email","action":"GRANT","term_version":"1","evidence":{"channel":"portal"}}}'
search='{"subject":{"cpf":"'$cpf'"}}'
cat <<TOUR

titular demo is starting. Demo API keys (development only):
  DPO: demo-dpo-key    backend: demo-backend-key    auditor: demo-auditor-key
Synthetic titulares to try are listed in $scenarios;
$cpf is the 2023 buyer (comprador_2023).

  curl -s -H 'Authorization: Bearer demo-dpo-key' -d '$extract' http://127.0.0.1:8080/v1/tenants/demo/requests
  curl -s -H 'Authorization: Bearer demo-dpo-key' http://127.0.0.1:8080/v1/tenants/demo/requests/REQUEST_ID
  curl -s -H 'Authorization: Bearer demo-dpo-key' -OJ 'http://127.0.0.1:8080/v1/tenants/demo/requests/REQUEST_ID/export?format=xlsx'
  grpcurl -plaintext -H 'authorization: Bearer demo-dpo-key' -d '$confirm' 127.0.0.1:9090 lgpd.v1.RequestService/CreateRequest
  curl -s -H 'Authorization: Bearer demo-dpo-key' http://127.0.0.1:8080/v1/tenants/demo/purposes
  curl -s -H 'Authorization: Bearer demo-backend-key' -d '$grant' http://127.0.0.1:8080/v1/tenants/demo/requests
  curl -s -H 'Authorization: Bearer demo-dpo-key' -d '$search' http://127.0.0.1:8080/v1/tenants/demo/consents:search

TOUR
exec bin/titular serve --config examples/realestate/titular.yaml --log-format text
