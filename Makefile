# source-oura — an Airbyte source for the Oura Ring API v2.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 10s

.PHONY: build test acceptance image-test expected-records demo bench fuzz fmt clean

build: ## build ./source-oura
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o source-oura .

test: ## every test: vet, staticcheck, the suite under the race detector (acceptance suite included), fuzz, the image test
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz
	./integration_tests/image/test.sh

acceptance: ## the Airbyte acceptance suite alone: builds the binary and runs it against the emulator
	$(GO) test -race -count=1 ./integration_tests/...

image-test: ## build the Dockerfile with podman (needs root; installs podman/buildah/busybox-static) and run it as Airbyte does
	./integration_tests/image/test.sh

expected-records: ## rewrite integration_tests/expected_records.jsonl from the emulator (seed 1)
	$(GO) test -count=1 -run TestBasicRead ./integration_tests -update

fuzz: ## each fuzz target for FUZZTIME (default 10s); seeds live in the tests and testdata/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzParseCatalog$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzParseState$$' -fuzztime $(FUZZTIME) ./protocol
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzValidJSON$$' -fuzztime $(FUZZTIME) ./internal/oura
	$(GO) test -run '^$$' -fuzz '^FuzzFastCheck$$' -fuzztime $(FUZZTIME) ./streams

demo: ## offline: emulator + check + discover + read of all 19 streams
	$(GO) run ./cmd/demo

bench: ## benchmarks against the emulator; writes docs/performance.md (needs /usr/bin/time)
	$(GO) run ./cmd/bench

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f source-oura
