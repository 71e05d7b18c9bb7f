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
test: vet check-generated ## The whole suite: go vet, the regeneration check, go test -race
	$(GO) test -race -count=1 ./...

.PHONY: vet
vet: ## go vet (the smoke suite too, so it always builds)
	$(GO) vet ./...
	$(GO) vet -tags smoke ./upstream/contract/

.PHONY: generate
generate: ## Regenerate the gqlgen code from graph/schema.graphqls
	$(GO) generate ./...

.PHONY: check-generated
check-generated: generate ## Fail when regenerating changes any file
	@git diff --exit-code --stat -- graph || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- graph)" || { git status --porcelain -- graph; echo "generation left new files"; exit 1; }

.PHONY: smoke
smoke: ## The client contract suite against real upstreams (GENESYS_* / USERGROUP_*; writes only with SMOKE_WRITES=1); not part of make test
	$(GO) test -tags smoke -count=1 -v -run '^TestSmoke$$' ./upstream/contract/

.PHONY: ide
ide: ## Rebuild the GraphQL IDE bundle (ide/dist) from the pinned npm packages; needs Node.js and npm, commit the result
	cd ide/web && npm ci --ignore-scripts --no-audit --no-fund && npm run build

.PHONY: lint
lint: vet ## gofmt check and go vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "run gofmt -w"; exit 1; }

.PHONY: bench
bench: ## Go benchmarks of the workload shapes (handler + emulators over loopback)
	$(GO) test -run '^$$' -bench . -benchmem ./...

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
