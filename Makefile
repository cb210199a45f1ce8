# hotdesk: two commands. `make run` serves the demo office, `make test` runs the suite.
# Both install what they need (npm ci) and build (tsc) when sources changed.

SHELL := /bin/bash
NODE_STAMP := node_modules/.installed
SOURCES := $(shell find agent -name '*.ts' 2>/dev/null)
DATA ?= ./data
DEMO ?= examples/demo.yaml

.PHONY: all install build run test test-peers typecheck lint format bench clean help

all: build

help:
	@echo "make run    - install, build, import the demo into $(DATA) if empty, serve"
	@echo "make test   - install (npm ci, Debian test peers), build, type-check, run the whole suite"
	@echo "make lint   - Biome lint and format check (make test runs it first)"
	@echo "make format - format the tree with Biome"
	@echo "make bench  - benchmarks against nginx and tftpd-hpa (writes bench/results.md)"
	@echo "make clean  - remove dist/ (data/ is kept)"

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_STAMP)

dist/.built: $(NODE_STAMP) $(SOURCES) tsconfig.json tsconfig.build.json
	npx tsc -p tsconfig.build.json
	@touch $@

build: dist/.built

typecheck: $(NODE_STAMP)
	npx tsc -p tsconfig.json --noEmit

lint: $(NODE_STAMP)
	npx biome check .

format: $(NODE_STAMP)
	npx biome format --write .

run: build
	node dist/agent/cli/main.js serve --data $(DATA) --demo $(DEMO)

test-peers:
	@bash scripts/install-test-peers.sh

test: test-peers build typecheck lint
	@rm -f .vitest-report.json
	npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json; status=$$?; \
	  node -e 'const r=require("./.vitest-report.json"); console.log(`$${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests+r.numTodoTests} skipped`)' || true; \
	  exit $$status

bench: build
	bash bench/run.sh

clean:
	rm -rf dist
