# The gateway's tasks. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   ?= gateway
IMAGE ?= groupdir/gateway:dev

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Start the gateway in demo mode on :8080 (in-memory emulators, nothing to configure)
	$(GO) run .

.PHONY: test
test: vet staticcheck check-generated ## The whole suite: go vet, staticcheck, the regeneration check, go test -race (the Go client's module too)
	$(GO) test -race -count=1 ./...
	cd client && $(GO) test -race -count=1 ./...

.PHONY: clients
clients: ## Install the npm packages the suite runs (Apollo Client, urql, relay-compiler, Hive Gateway), pinned by each clients/*/package-lock.json
	for d in clients/js clients/relay clients/federation; do (cd $$d && npm ci --ignore-scripts --no-audit --no-fund) || exit 1; done

.PHONY: vet
vet: ## go vet (the smoke suite too, so it always builds)
	$(GO) vet ./...
	$(GO) vet -tags smoke ./upstream/contract/
	cd client && $(GO) vet ./...

.PHONY: generate
generate: ## Regenerate the gqlgen code from graph/schema.graphqls
	$(GO) generate ./...

.PHONY: client
client: ## Regenerate the typed Go client (client/generated.go, genqlient) from testdata/schema.golden.graphql
	cd client && $(GO) generate ./...

.PHONY: check-generated
check-generated: generate client ## Fail when regenerating changes any file
	@git diff --exit-code --stat -- graph client || { echo "generated code is stale: run 'make generate client' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- graph client)" || { git status --porcelain -- graph client; echo "generation left new files"; exit 1; }

.PHONY: supergraph
supergraph: ## Print the federation subgraph SDL (Query._service with GATEWAY_FEDERATION=true), e.g. make -s supergraph > directory.graphql
	@$(GO) run ./cmd/subgraph-sdl

.PHONY: smoke
smoke: ## The client contract suite against real upstreams (GENESYS_* / USERGROUP_*; writes only with SMOKE_WRITES=1); not part of make test
	$(GO) test -tags smoke -count=1 -v -run '^TestSmoke$$' ./upstream/contract/

.PHONY: ide
ide: ## Rebuild the GraphQL IDE bundle (ide/dist) from the pinned npm packages; needs Node.js and npm, commit the result
	cd ide/web && npm ci --ignore-scripts --no-audit --no-fund && npm run build

.PHONY: staticcheck
# Findings in generated files (a first line "// Code generated ... DO NOT EDIT.",
# such as gqlgen's federation.go) are dropped: that code is never edited by hand.
staticcheck: ## staticcheck (pinned in go.mod as a tool; default checks), the smoke suite too
	@for args in "./..." "-tags smoke ./upstream/contract/"; do \
	  out=$$($(GO) tool staticcheck $$args 2>&1) && continue; \
	  kept=$$(printf '%s\n' "$$out" | while IFS= read -r l; do \
	    head -n1 "$${l%%:*}" 2>/dev/null | grep -q '^// Code generated .* DO NOT EDIT\.$$' || printf '%s\n' "$$l"; done); \
	  [ -z "$$kept" ] || { printf '%s\n' "$$kept"; exit 1; }; \
	done

.PHONY: lint
lint: vet staticcheck ## gofmt check, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "run gofmt -w"; exit 1; }

.PHONY: bench
bench: ## Go benchmarks of the workload shapes (handler + emulators over loopback)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# make load's settings: measured time per workload, requests in flight, upstream latency, workloads.
LOAD_DURATION    ?= 10s
LOAD_CONCURRENCY ?= 16
LOAD_LATENCY     ?= 0ms
LOAD_WORKLOADS   ?= w1,w2,w3,w4

.PHONY: load
load: ## Load benchmark (bench/load): builds the gateway, drives W1-W4 against the emulators, prints req/s, p50/p99, CPU, calls, RSS
	$(GO) run ./bench/load -duration $(LOAD_DURATION) -concurrency $(LOAD_CONCURRENCY) -latency $(LOAD_LATENCY) -workloads $(LOAD_WORKLOADS)

.PHONY: budget
budget: ## The budget benchmark (bench/budget): about a minute per contender; TAILCALL=<launcher> adds Tailcall, BUDGET_FLAGS=… passes flags
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && CGO_ENABLED=0 $(GO) build -o "$$d/gateway" . && \
	  $(GO) run ./bench/budget -gateway "$$d/gateway" $(if $(TAILCALL),-tailcall $(TAILCALL)) $(BUDGET_FLAGS)

.PHONY: build
build: ## Build the static binary ./gateway
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN) .

.PHONY: docker
docker: ## Build the container image
	docker build -t $(IMAGE) .
