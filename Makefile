# Every target bootstraps what it needs: Node >= 22 (Node 24 from the npm registry when the
# system Node is older) and `npm ci` when node_modules is missing or stale.
SHELL := /bin/bash
RUN := scripts/run

.PHONY: all build demo test test-unit test-e2e bench start typecheck lint format clean schema

all: build

build:
	@$(RUN) npm run --silent build

typecheck:
	@$(RUN) npm run --silent typecheck

schema: build
	@$(RUN) node dist/cli/main.js config schema > schema/gatehouse.schema.json

demo: build
	@$(RUN) node demo/run.ts

lint:
	@$(RUN) npm run --silent lint

format:
	@$(RUN) npm run --silent format

test: build
	@$(RUN) npm run --silent typecheck
	@$(RUN) npm run --silent lint
	@$(RUN) test/setup/run-tests.sh

test-unit: build
	@$(RUN) npx vitest run --project unit

test-e2e: build
	@$(RUN) npx vitest run --project e2e

bench: build
	@$(RUN) node bench/run.ts

start: build
	@$(RUN) node dist/cli/main.js start --config $(or $(CONFIG),examples/gatehouse.yaml)

clean:
	rm -rf dist .demo .bench .test-tmp
