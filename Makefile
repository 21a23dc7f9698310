# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
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

.PHONY: help build run token test test-short node-deps vet fmt lint openapi clean

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
	$(GO) test -race -count=1 ./...

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

fmt: ## gofmt the tree
	gofmt -w .

openapi: build ## print the OpenAPI document
	@./$(BIN) openapi

clean: ## remove build output
	rm -rf bin
