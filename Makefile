# user-service: every developer entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
LOCKS := requirements/dev.lock

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(BIN)/uv $(LOCKS) pyproject.toml
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes $(LOCKS)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

.PHONY: install
install: $(VENV)/.installed ## Create .venv from the hashed lock files

.PHONY: lock
lock: $(BIN)/uv ## Re-pin requirements/*.lock from pyproject.toml
	$(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --extra dev -o requirements/dev.lock pyproject.toml
	$(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --extra server -o requirements/server.lock pyproject.toml
# The image's build tools: this uv, and the build backend named in pyproject.toml's [build-system].
	printf 'uv==$(UV_VERSION)\nsetuptools>=75\n' | $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 -o requirements/build.lock -

.PHONY: run
run: install ## Serve the API on :8080 (embedded PostgreSQL unless a database URL is set)
	$(BIN)/user-service serve

.PHONY: lint
lint: install ## Ruff lint and format check, mypy --strict, layering contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: fmt
fmt: install ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: unit
unit: install ## Unit tests only (no database)
	$(BIN)/pytest tests/unit

.PHONY: prerequisites
prerequisites: ## Check what `make test` needs beyond Python; one line says what is missing
	scripts/check-test-prerequisites.sh

# The whole suite needs a Docker engine: the image is built and run, Compose brought up, and the
# integration tests run once on testcontainers' PostgreSQL (when Docker answers and no
# USER_SERVICE_TEST_DATABASE_URL is set) and once more on the embedded server.
.PHONY: test
test: prerequisites lint tools base-images ## The whole suite: lint, types, unit, integration, e2e, image, Compose and deployment checks
	$(BIN)/pytest
	USER_SERVICE_TEST_POSTGRES=embedded $(BIN)/pytest tests/integration

.PHONY: migrate-up
migrate-up: install ## Apply every migration to the configured database
	$(BIN)/user-service migrate up

.PHONY: migrate-down
migrate-down: install ## Undo the last migration
	$(BIN)/user-service migrate down

.PHONY: migration
migration: install ## Write a new revision for what tables.py declares: make migration MESSAGE="add display name"
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what it does"'; exit 2; }
	$(BIN)/python scripts/new_migration.py "$(MESSAGE)"

.PHONY: coverage
coverage: install ## The test suite with a line and branch coverage report (HTML in .cache/coverage)
	$(BIN)/pytest --cov --cov-report=term --cov-report=html

.PHONY: openapi
openapi: install ## Write the OpenAPI document to openapi.json (no server, no database)
	$(BIN)/python scripts/openapi.py openapi.json

# The suite's fuzz run with a larger budget: per phase group up to FUZZ_EXAMPLES examples an
# operation, fuzzing and stateful testing repeating until FUZZ_SECONDS are spent.
FUZZ_EXAMPLES ?= 1000
FUZZ_SECONDS ?= 240
FUZZ_SEED ?= 20261125

.PHONY: fuzz
fuzz: install ## Fuzz the real server with schemathesis for longer (FUZZ_SECONDS per phase group; figures in .cache/reliability)
	USER_SERVICE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) USER_SERVICE_FUZZ_SECONDS=$(FUZZ_SECONDS) \
		USER_SERVICE_FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest e2e/test_fuzz.py

.PHONY: base-images
base-images: ## The base images: official ones if here (USE_REGISTRY=1: pulled), else built from Debian packages
	scripts/base-images.sh

.PHONY: compose
compose: tools base-images ## PostgreSQL 17 and the service in Docker, on :8080 (COMPOSE_PROFILES=monitoring adds Prometheus and Grafana)
	DOCKER_BUILDKIT=1 $(TOOLS)/docker-compose --env-file .cache/base-images.env up --build

# Tools that are not Python packages, pinned and built into .tools/bin (git-ignored); a pin that is
# already built costs nothing.
TOOLS := .tools/bin
HELM_VERSION := v3.22.0
ACTIONLINT_VERSION := v1.7.12
K6_VERSION := v1.8.1
COMPOSE_VERSION := v2.32.4
SPECTRAL_VERSION := 6.16.3
SPECTRAL_OWASP_VERSION := 2.0.1
CHART := helm/user-service

.PHONY: tools
tools: ## Build the pinned helm, actionlint, k6 and Compose v2 into .tools/bin (Go), Spectral into .tools/spectral (npm); skipped when up to date
	scripts/install-go-tool.sh helm.sh/helm/v3/cmd/helm $(HELM_VERSION)
	scripts/install-go-tool.sh github.com/rhysd/actionlint/cmd/actionlint $(ACTIONLINT_VERSION)
	scripts/install-go-tool.sh go.k6.io/k6 $(K6_VERSION)
	scripts/install-go-tool.sh github.com/docker/compose/v2/cmd $(COMPOSE_VERSION) docker-compose
	scripts/install-npm-tool.sh spectral @stoplight/spectral-cli@$(SPECTRAL_VERSION) \
		@stoplight/spectral-owasp-ruleset@$(SPECTRAL_OWASP_VERSION)

.PHONY: helm-check
helm-check: install tools ## Lint the chart, render every value set, validate the objects, Tiltfile and CI workflow
	for values in $(CHART)/ci/*-values.yaml deploy/kind/values-dev.yaml; do \
		$(TOOLS)/helm lint --strict $(CHART) --values $$values || exit 1; \
	done
	$(BIN)/pytest tests/deploy

# The local Kubernetes cluster (deploy/kind/): every pin in deploy/kind/versions.env; builds cached
# in ~/.cache/user-service/kind (outside the clone, so a fresh clone reuses them); cluster state
# (kubeconfig, recorded kernel settings) in .cache/kind. KIND_SOURCE=registry uses kind's
# published node image instead of the local builds (where a registry answers).
KIND_SCRIPTS := deploy/kind/scripts
KIND_KUBECONFIG := $(CURDIR)/.cache/kind/kubeconfig
KIND_BIN = $(shell . deploy/kind/versions.env && echo "$${XDG_CACHE_HOME:-$$HOME/.cache}/user-service/kind/kubernetes-$$KUBERNETES_VERSION/bin")
APP_IMAGE ?= user-service
APP_TAG ?= ci
CLUSTER_RESULTS ?= .cache/cluster

.PHONY: kind-build
kind-build: ## Build (or find cached) every binary and image of the local Kind cluster
	$(KIND_SCRIPTS)/build-binaries.sh
	$(KIND_SCRIPTS)/build-images.sh

.PHONY: kind-up
kind-up: ## Create the Kind cluster `user-service` with local-path volumes, metrics-server and CloudNativePG
	$(KIND_SCRIPTS)/kind-up.sh

.PHONY: kind-down
kind-down: ## Delete the Kind cluster and restore the kernel settings it changed
	$(KIND_SCRIPTS)/kind-down.sh

# What the cluster suite and the cluster benchmark run with: kubectl and helm, the cluster, the image.
# CLUSTER_HELM_ARGS adds helm arguments to every install, e.g. to show a test failing on purpose:
# make cluster-test CLUSTER_TESTS=e2e/cluster/test_3_disruptions.py CLUSTER_HELM_ARGS=--set=lifecycle.preStopSleepSeconds=0
CLUSTER_HELM_ARGS ?=
CLUSTER_ENV = PATH="$(KIND_BIN):$(CURDIR)/$(TOOLS):$$PATH" KUBECONFIG=$(KIND_KUBECONFIG) \
	USER_SERVICE_CLUSTER_IMAGE=$(APP_IMAGE):$(APP_TAG) \
	USER_SERVICE_CLUSTER_HELM_ARGS="$$($(KIND_SCRIPTS)/chart-args.sh) $(CLUSTER_HELM_ARGS)"

.PHONY: app-image-in-kind
app-image-in-kind:
	$(KIND_SCRIPTS)/app-image.sh $(APP_IMAGE):$(APP_TAG)
	$(KIND_SCRIPTS)/load-image.sh $(APP_IMAGE):$(APP_TAG)

.PHONY: cluster-test
cluster-test: install tools app-image-in-kind ## The cluster e2e suite on the Kind cluster (make kind-up first); results in CLUSTER_RESULTS
	$(CLUSTER_ENV) USER_SERVICE_CLUSTER_RESULTS=$(CLUSTER_RESULTS) $(BIN)/pytest $(or $(CLUSTER_TESTS),e2e/cluster) --timeout=1200

# The scaling plan on the Kind cluster (e2e/cluster/bench.py): the chart with the HPA from one pod,
# with and without the Pooler, k6 stepped up until p99 passes 100 ms or a request fails; a JSON
# file and a chart in CLUSTER_BENCH_RESULTS, a section appended to BENCHMARKS.md.
CLUSTER_BENCH_ARGS ?=
CLUSTER_BENCH_RESULTS ?= docs/cluster-bench

.PHONY: cluster-bench
cluster-bench: install tools app-image-in-kind ## The stepped load with autoscaling on the Kind cluster (make kind-up first); appends to BENCHMARKS.md
	$(CLUSTER_ENV) USER_SERVICE_CLUSTER_NAMESPACE=user-service-bench \
		$(BIN)/python -m e2e.cluster.bench --results $(CLUSTER_BENCH_RESULTS) $(CLUSTER_BENCH_ARGS)

# What CI runs: the cluster up, the suite, the cluster down whatever the suite's result.
.PHONY: cluster-ci
cluster-ci: ## kind-up, cluster-test and kind-down (always), timed
	@start=$$(date +%s); status=0; \
	$(MAKE) kind-up && $(MAKE) cluster-test || status=$$?; \
	$(MAKE) kind-down || status=1; \
	echo "cluster-ci: $$(( $$(date +%s) - start )) s, status $$status"; exit $$status

# `tilt ci` cannot load the Tiltfile here (ext:// extensions are fetched from GitHub), so this
# runs the Tiltfile's resources in its order with helm and kubectl: the same operator, database,
# dev image, values and smoke Job. `make kind-up` first.
.PHONY: tilt-ci
tilt-ci: tools ## The Tiltfile's `tilt ci` steps on the Kind cluster: CloudNativePG, the dev database, the chart, helm test
	$(KIND_SCRIPTS)/tilt-ci.sh

.PHONY: tilt-up
tilt-up: ## Run the dev loop on the Kind cluster: CloudNativePG, the chart, live update of src/
	tilt up

# The k6 load scenario (e2e/load/scenario.js). Without LOAD_BASE_URL it starts the service on an
# embedded PostgreSQL itself and stops both afterwards. LOAD_STAGES (rpm:duration,...) steps the
# rate instead; LOAD_MIX changes the operation mix.
RATE ?= 30000
LOAD_DURATION ?= 2m
LOAD_BASE_URL ?=
LOAD_STAGES ?=
LOAD_MIX ?=
LOAD_USERS ?= 1000
LOAD_P99_MS ?= 100
LOAD_RESULTS ?= .cache/load

.PHONY: load
load: install tools ## k6 at RATE requests a minute for LOAD_DURATION (LOAD_BASE_URL, or a service started here)
	$(BIN)/python -m e2e.load.run --rate $(RATE) --duration $(LOAD_DURATION) \
		--base-url "$(LOAD_BASE_URL)" --stages "$(LOAD_STAGES)" --mix "$(LOAD_MIX)" \
		--users $(LOAD_USERS) --p99-ms $(LOAD_P99_MS) --results $(LOAD_RESULTS)

# The benchmark runner (benchmarks/run.py): stepped load, reference comparison, figures appended to
# BENCHMARKS.md. BENCH_ARGS passes options on (see `.venv/bin/python -m benchmarks.run --help`).
BENCH_WORKERS ?= 1
BENCH_ARGS ?=

.PHONY: bench
bench: install tools ## Stepped load to the limit, the reference comparison (TLS off and on) and a chart; appends to BENCHMARKS.md
	@command -v wrk >/dev/null || { echo "make bench needs wrk (Debian: apt-get install -y wrk; Debian's postgresql for TLS)"; exit 1; }
	$(BIN)/python -m benchmarks.run --workers $(BENCH_WORKERS) $(BENCH_ARGS)
