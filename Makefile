# source-oura — an Airbyte source for the Oura Ring API v2.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test demo bench lint fmt clean

build: ## build ./source-oura
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o source-oura .

test: ## every test: vet, then the whole suite under the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

demo: ## offline: emulator + check + discover + read of all 19 streams
	$(GO) run ./cmd/demo

bench: ## benchmarks; writes docs/performance.md
	$(GO) run ./cmd/bench

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -f source-oura
