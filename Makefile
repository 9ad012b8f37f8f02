# titular — build, generate, test. `make help` lists the targets.
SHELL := /bin/bash
BIN   := $(CURDIR)/.bin
export PATH := $(BIN):$(PATH)

# The Go toolchain, pinned (go.mod's toolchain line asks for the same): go1.26.8
# has 12 standard-library vulnerabilities that titular reaches (`make vulncheck`).
# `:=`, not `?=`: a GOTOOLCHAIN in the environment (or `local` in the go env
# file) is overridden on purpose, so no target silently builds, lints or scans
# with an older local Go; scripts/*.sh and .ci/run pin the same. Go downloads
# the toolchain once through the module proxy into the module cache. To move
# on, change go.mod's toolchain line and every pin (`git grep -n go1.27.3`).
export GOTOOLCHAIN := go1.27.3

# Code generators, pinned. buf needs a newer protobuf than the service, so each
# tool is installed on its own with `go install module@version`.
BUF_VERSION             := v1.75.0
PROTOC_GEN_GO_VERSION   := v1.36.12
PROTOC_GEN_GRPC_VERSION := v1.6.2
GATEWAY_VERSION         := v2.33.0
# google/api protos ship in the v1 gateway module (the buf registry is unreachable here).
GATEWAY_V1_VERSION      := v1.16.0
# The linter, pinned like the generators; its configuration is .golangci.yml.
GOLANGCI_LINT_VERSION   := v2.15.0

.PHONY: help tools third_party generate check-generated openapi-lint lint vulncheck test run build

help: ## list targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/titular
	go build -o bin/titular ./cmd/titular

tools: ## install the pinned code generators into .bin/
	GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(BIN) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GRPC_VERSION)
	GOBIN=$(BIN) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GATEWAY_VERSION) github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GATEWAY_VERSION)

third_party: ## re-copy google/api and openapiv2 option protos from the Go module cache
	go mod download github.com/grpc-ecosystem/grpc-gateway@$(GATEWAY_V1_VERSION) github.com/grpc-ecosystem/grpc-gateway/v2@$(GATEWAY_VERSION)
	scripts/third_party.sh $(GATEWAY_V1_VERSION) $(GATEWAY_VERSION)

generate: tools ## regenerate api/ from proto/
	buf format -w
	buf lint
	buf generate

openapi-lint: ## validate the generated OpenAPI with swagger-cli and redocly (pinned, installed into .bin/npm)
	scripts/openapi-lint.sh

check-generated: generate ## fail when api/ drifts from proto/
	buf format -d --exit-code
	git diff --exit-code -- api/ proto/ || { echo "generated code drifted from proto/: run 'make generate' and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- api/)" || { git status --porcelain -- api/; echo "untracked generated files: run 'make generate' and commit" >&2; exit 1; }

# `golangci-lint version` prints "golangci-lint has version 2.15.0 built with go1.27.3 ...":
# reinstall when .bin/ holds none, another version, or one built by another Go
# (golangci-lint refuses a module whose Go is newer than the one it was built
# with, and type-checks the standard library with its own go/types).
lint: ## run golangci-lint (pinned, installed into .bin/) with .golangci.yml on ./...
	@if ! $(BIN)/golangci-lint version 2>/dev/null | grep -qF "has version $(GOLANGCI_LINT_VERSION:v%=%) built with $$(go env GOVERSION) "; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) built with $$(go env GOVERSION) into .bin/"; \
		GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi
	$(BIN)/golangci-lint run ./...

vulncheck: ## run govulncheck (pinned, into .bin/) on ./... against a local vulnerability database built from a pinned golang.org/x/vulndb
	scripts/vulncheck.sh

test: ## run every test (provisions a database)
	scripts/test.sh

run: ## run titular with the demo tenant ready (provisions a database, seeds, migrates, serves)
	scripts/run-demo.sh
