# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
# The Go release the project builds and tests with: go1.27.3 fixes standard
# library vulnerabilities that 1.26 ships (govulncheck, `make lint`). The go
# command fetches it from the module proxy on first use (about 10 s).
export GOTOOLCHAIN := go1.27.3
GO ?= go
BIN := bin/todo-api
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Tests that need PostgreSQL read this; they make and drop their own schema
# or database in it, so any database you can create schemas in will do.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TEST_DATABASE_URL

# DEVELOPMENT ONLY: the HS256 secret `make run` and `make token` use when
# BETTER_AUTH_SECRET is not set. Never use it anywhere real.
DEV_SECRET := dev-only-secret-do-not-use-in-production-0123456789
AUTH_SECRET = $(or $(BETTER_AUTH_SECRET),$(DEV_SECRET))

# The Node projects the tests drive (a real Better Auth server, the
# TypeScript client check). Installed from their lock files when npm exists.
NODE_PROJECTS := test/e2e/betterauth test/tsclient

.PHONY: help build run token test test-short node-deps vet staticcheck vulncheck fmt lint openapi clean bench

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the static binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/api

run: build ## serve on :8000 with SQLite (todo.db) and a development secret
	@if [ -z "$$BETTER_AUTH_SECRET$$BETTER_AUTH_URL$$BETTER_AUTH_JWKS_URL" ]; then \
	  echo "*** DEVELOPMENT MODE: tokens are HS256 with a built-in development secret."; \
	  echo "*** Get one with:  make token USER=alice"; \
	  echo "*** Then:          curl -H \"Authorization: Bearer \$$(make -s token USER=alice)\" localhost:$${PORT:-8000}/api/alice/tasks"; \
	fi
	BETTER_AUTH_SECRET="$(AUTH_SECRET)" LOG_FORMAT=$${LOG_FORMAT:-console} ./$(BIN) serve

token: build ## print a development token: make token USER=alice
	@BETTER_AUTH_SECRET="$(AUTH_SECRET)" ./$(BIN) token --user "$(USER)"

test: node-deps ## run every test (race detector on), PostgreSQL included
	$(GO) test -race -count=1 -timeout 14m ./...

test-short: ## unit tests only: no PostgreSQL, Node or browser
	$(GO) test -race -short ./...

node-deps: ## install the test Node projects from their lock files (when npm exists)
	@if command -v npm >/dev/null 2>&1; then \
	  for d in $(NODE_PROJECTS); do \
	    if [ -f $$d/package-lock.json ] && { [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules ]; }; then \
	      echo "npm ci in $$d"; (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; touch $$d/node_modules; \
	    fi; \
	  done; \
	else echo "npm not found: tests that need Node will skip (they fail on CI)"; fi

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }

# The linters are pinned and run with `go run pkg@version`: the go command
# fetches each from the module proxy, checks it against the checksum database
# and caches the built binary, and each builds with the dependencies its own
# go.mod names (a shared tools module would force staticcheck and govulncheck
# onto one golang.org/x/tools, and pull in x/vulndb's 86 required modules).
# govulncheck runs offline on a database built from the golang.org/x/vulndb
# module (its data/osv files, by its cmd/indexdb) into bin/vulndb/<version>,
# once per version. Newer: `go list -m golang.org/x/vulndb@latest`.
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.10.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB := bin/vulndb/$(VULNDB_VERSION)

lint: vet staticcheck vulncheck ## go vet, gofmt check, staticcheck, govulncheck (offline); CI runs it

staticcheck: ## staticcheck, pinned
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

vulncheck: $(VULNDB)/index/modules.json ## govulncheck, pinned, on the vulnerability database in bin/vulndb
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db file://$(CURDIR)/$(VULNDB) ./...

# Built aside and moved in whole, so an interrupted build is not taken for a
# database; older versions are removed.
$(VULNDB)/index/modules.json:
	$(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION)
	rm -rf bin/vulndb && mkdir -p bin/vulndb
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
	  -vulns "$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv" -out $(VULNDB).tmp
	mv $(VULNDB).tmp $(VULNDB)

fmt: ## gofmt the tree
	gofmt -w .

openapi: build ## print the OpenAPI document
	@./$(BIN) openapi

clean: ## remove build output
	rm -rf bin

# ---- Container image (Containerfile, docs/DEPLOY.md) ----------------------
# `make image` stages what the image holds in IMAGE_ROOT (the linux binary,
# the CA bundle, passwd/group for uid 65532, an empty data/) and builds
# Containerfile on it: with buildah (no daemon; Debian's package is installed
# when it is missing and you are root), else podman, else docker. Force one
# with IMAGE_BUILDER=buildah|podman|docker.
IMAGE ?= todo-api
IMAGE_TAG ?= $(subst /,-,$(subst +,-,$(VERSION)))
IMAGE_ROOT ?= bin/image-root
IMAGE_SOURCE ?= https://github.com/todo-backend/todo
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_BUILDER ?=
CA_BUNDLE ?= $(firstword $(wildcard /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem))
# buildah's storage driver: vfs works everywhere, also inside a container
# where overlay cannot be mounted. Every buildah command on the same storage
# must use the same driver (buildah --storage-driver vfs images, ...).
STORAGE_DRIVER ?= vfs

.PHONY: image image-root

image-root: ## stage the image's files in bin/image-root
	@test -n "$(CA_BUNDLE)" || { echo "no CA bundle found: install ca-certificates or set CA_BUNDLE=/path/to/bundle.pem"; exit 1; }
	rm -rf $(IMAGE_ROOT)
	GOOS=linux $(MAKE) --no-print-directory build BIN=$(IMAGE_ROOT)/todo-api
	chmod 0755 $(IMAGE_ROOT)/todo-api
	install -d -m 0755 $(IMAGE_ROOT)/etc/ssl/certs $(IMAGE_ROOT)/data
	install -m 0644 $(CA_BUNDLE) $(IMAGE_ROOT)/etc/ssl/certs/ca-certificates.crt
	printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/data:/sbin/nologin' >$(IMAGE_ROOT)/etc/passwd
	printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >$(IMAGE_ROOT)/etc/group
	chmod 0644 $(IMAGE_ROOT)/etc/passwd $(IMAGE_ROOT)/etc/group

image: image-root ## build the container image todo-api:<git version> and todo-api:latest
	@set -e; builder="$(IMAGE_BUILDER)"; \
	if [ -z "$$builder" ] && ! command -v buildah >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing buildah from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null; \
	fi; \
	if [ -z "$$builder" ]; then \
	  for b in buildah podman docker; do if command -v $$b >/dev/null 2>&1; then builder=$$b; break; fi; done; \
	fi; \
	args="--build-arg VERSION=$(VERSION) --build-arg REVISION=$(IMAGE_REVISION) --build-arg SOURCE=$(IMAGE_SOURCE)"; \
	args="$$args -t $(IMAGE):$(IMAGE_TAG) -t $(IMAGE):latest -f Containerfile $(IMAGE_ROOT)"; \
	case "$$builder" in \
	  buildah) set -x; buildah --storage-driver "$(STORAGE_DRIVER)" bud --isolation chroot $$args ;; \
	  podman|docker) set -x; $$builder build $$args ;; \
	  "") echo "no image builder: install buildah (apt-get install buildah), podman or docker"; exit 1 ;; \
	  *) echo "IMAGE_BUILDER=$$builder: want buildah, podman or docker"; exit 1 ;; \
	esac
	@echo "built $(IMAGE):$(IMAGE_TAG) and $(IMAGE):latest; docs/DEPLOY.md says how to run it"

bench: ## the service vs pgbench on a fresh PostgreSQL database: make bench [QUICK=1] [GROWTH=1] [PROFILE=1]
	bash bench/bench.sh

# ---- Fault drills, fuzzing, soak (docs/RELIABILITY.md) ---------------------
# `make test` replays the fuzz seed corpora (testdata/fuzz/) and runs the
# drills of test/reliability with a 5 s soak. `make fuzz` fuzzes each target
# for FUZZTIME; `make soak` runs the soak for SOAK_DURATION and prints its
# figures. Both need nothing beyond `make test` (the soak: PostgreSQL).
FUZZTIME ?= 30s
SOAK_DURATION ?= 60s
FUZZ_TARGETS := ./adapters/httpapi:FuzzCreateTask ./adapters/httpapi:FuzzReplaceTask ./adapters/httpapi:FuzzBulkBodies \
	./adapters/httpapi:FuzzAuthorizationHeader ./adapters/jwks:FuzzVerify \
	./adapters/transfer:FuzzReadJSON ./adapters/transfer:FuzzReadTodoistCSV \
	./adapters/transfer:FuzzReadICS ./adapters/transfer:FuzzReadCSV

.PHONY: fuzz soak

# A run that fails with a bare "context deadline exceeded" at the end of
# FUZZTIME and writes no failing input is Go's own fuzzing race
# (golang/go#75804, fixed in Go 1.27), not a finding: it is reported and
# ignored. A real finding is saved in testdata/fuzz/<target>/ and fails.
fuzz: ## fuzz the task JSON, the Authorization header and the import readers, FUZZTIME each (default 30s)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; dir=$$pkg/testdata/fuzz/$$name; \
	  before=$$(ls $$dir 2>/dev/null | wc -l); \
	  echo "== $$name ($$pkg) for $(FUZZTIME)"; \
	  if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1 | tee /tmp/fuzz-$$name.log; [ $${PIPESTATUS[0]} -eq 0 ]; then continue; fi; \
	  if [ "$$(ls $$dir 2>/dev/null | wc -l)" = "$$before" ] && grep -q 'context deadline exceeded' /tmp/fuzz-$$name.log; then \
	    echo "== $$name: no failing input; the deadline error is golang/go#75804, ignored"; continue; \
	  fi; \
	  echo "== $$name FAILED: the input is in $$dir"; exit 1; \
	done

soak: ## mixed load at concurrency 64 on PostgreSQL for SOAK_DURATION (default 60s), then the checks
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -count=1 -v -timeout 30m -run '^TestSoak$$' ./test/reliability/
