#!/usr/bin/env bash
# Copies the google/api and openapiv2 option protos (and their licences) from
# the Go module cache into third_party/. The buf registry is not reachable from
# our build machines, so these are vendored and re-copied by `make third_party`.
set -euo pipefail
# The pinned Go toolchain (as in go.mod and the Makefile): overrides GOTOOLCHAIN=local
# on purpose, since go1.26.8 has standard-library vulnerabilities titular reaches.
export GOTOOLCHAIN=go1.27.3
v1=${1:?gateway v1 version}; v2=${2:?gateway v2 version}
cache=$(go env GOMODCACHE)
src1=$cache/github.com/grpc-ecosystem/grpc-gateway@$v1
src2=$cache/github.com/grpc-ecosystem/grpc-gateway/v2@$v2
root=$(cd "$(dirname "$0")/.." && pwd)
dst=$root/third_party
mkdir -p "$dst/google/api" "$dst/protoc-gen-openapiv2/options"
for f in annotations http httpbody; do
  install -m 0644 "$src1/third_party/googleapis/google/api/$f.proto" "$dst/google/api/$f.proto"
done
install -m 0644 "$src1/third_party/googleapis/LICENSE" "$dst/google/LICENSE"
for f in annotations openapiv2; do
  install -m 0644 "$src2/protoc-gen-openapiv2/options/$f.proto" "$dst/protoc-gen-openapiv2/options/$f.proto"
done
install -m 0644 "$src2/LICENSE" "$dst/protoc-gen-openapiv2/LICENSE"
echo "third_party/ refreshed from grpc-gateway $v1 and $v2"
