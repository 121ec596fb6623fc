# Wisp — common tasks. `make demo` runs the main job, `make test` runs every test.
GO ?= go

.PHONY: demo test deps services vet build bench fuzz

# Build and serve the hello example on http://127.0.0.1:3000 (needs only Go).
demo:
	$(GO) run ./cmd/wisp up --build -f examples/hello

build:
	$(GO) build -o bin/wisp ./cmd/wisp

deps:
	bash scripts/deps.sh

# Redis, PostgreSQL, MariaDB and Mosquitto on localhost for the tests.
services:
	bash scripts/services.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...

# Every test, with the race detector; installs guest toolchains if missing.
test: deps services vet
	$(GO) test -race -timeout 40m ./...

# Issue #7's suite: one table of fresh-instance latency and HTTP req/s, p50/p99
# per guest, against native net/http (and jco) measured in the same run (see bench/README.md).
bench: deps
	$(GO) test -run '^$$' -bench '^BenchmarkSuite$$' -benchtime 1x -count 1 -timeout 30m ./bench/

# Short fuzzing pass over every decoder (FUZZTIME=5m for a longer run).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./pkg/manifest -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/trigger/http -run '^$$' -fuzz FuzzRoute -fuzztime $(FUZZTIME)
	$(GO) test ./internal/platform/bundle -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/oci -run '^$$' -fuzz '^FuzzManifest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/oci -run '^$$' -fuzz '^FuzzLockedApp$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/oci -run '^$$' -fuzz '^FuzzUnpackArchive$$' -fuzztime $(FUZZTIME)
