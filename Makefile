# Development tasks. Tools come from go.mod's tool directive (go tool ...),
# so nothing depends on what happens to be installed.

GO       ?= go
PKGS     := ./...
CONFIGS  := gen/common/gen.yaml gen/core/gen.yaml gen/query/gen.yaml gen/durablestreams/gen.yaml examples/pubsub/client/gen.yaml
BENCHTIME ?= 1s

.PHONY: all generate check-generated test bench bench-sse bench-ogen bench-server demo lint fuzz corpus roundtrip buildtime

all: lint test

## generate: regenerate gen/ from spec/, and the example consumer module.
generate:
	$(GO) generate ./gen/... ./examples/pubsub/...
	cd examples/consumer && $(GO) generate ./...

## check-generated: fail when gen/ differs from what spec/ generates.
check-generated:
	@for c in $(CONFIGS); do $(GO) run ./cmd/apigen -check -config $$c || exit 1; done
	@cd examples/consumer && $(GO) tool apigen -check -config todo/gen.yaml
	@echo "check-generated: gen/ is up to date"

## test: run every test (the corpus and round-trip tests included). The
## round-trip test runs last and on its own, verbosely: it reuses the corpus
## packages the corpus test built (from the build cache) and prints its counts.
ROUNDTRIP_PKG := github.com/allsource-go/allsource/internal/roundtrip
test:
	@pkgs=$$($(GO) list $(PKGS)) || exit 1; status=0; \
	rest=$$(echo "$$pkgs" | grep -vx '$(ROUNDTRIP_PKG)'); \
	if [ -n "$$rest" ]; then $(GO) test -count=1 $$rest || status=1; fi; \
	if echo "$$pkgs" | grep -qx '$(ROUNDTRIP_PKG)'; then $(GO) test -count=1 -v $(ROUNDTRIP_PKG) || status=1; fi; \
	exit $$status

## bench: run every benchmark, side by side with its baseline.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## bench-sse: SSE decoding of a generated client beside a plain bufio reader and
## openai-go's ssestream (a module of its own, so they stay out of go.mod).
bench-sse:
	cd internal/ssebench && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME)

## bench-ogen: BenchmarkQueryPage of the generated client beside ogen's
## client for the same spec (a module of its own, so ogen stays out of go.mod).
bench-ogen:
	cd internal/ogenbench && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME)

## bench-server: the embedded server's figures at their documented sizes
## (1,000,000 events for ingest and memory, 100,000 per replay).
bench-server:
	$(GO) test -run '^$$' -bench BatchIngest -benchmem -benchtime 1000x ./coretest
	$(GO) test -run '^$$' -bench MemoryPerEvent -benchtime 1000000x ./coretest
	$(GO) test -run '^$$' -bench 'Replay|Live' -benchmem -benchtime 5x ./coretest

## demo: regenerate the clients, then run the demos against the embedded server,
## and the Durable Streams demo against the reference server (Node.js and npm).
demo: generate
	$(GO) run ./examples/demo
	$(GO) run ./examples/asset_projection
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		$(GO) run ./examples/durable_streams; \
	else \
		echo "demo: examples/durable_streams skipped: it runs against the Durable Streams reference server (npm's @durable-streams/server), which needs Node.js and npm: apt-get install nodejs npm, then make demo again; or run it against a server of your own: go run ./examples/durable_streams -url http://localhost:4437"; \
	fi

## lint: gofmt, go vet and staticcheck over everything, generated code included.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	cd examples/consumer && $(GO) build ./... && $(GO) vet ./...

## fuzz: a short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 30s
fuzz:
	@for f in FuzzNameAllocator FuzzLoad FuzzDecodeStreamFrame; do $(GO) test ./generator -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./runtime -run '^$$' -fuzz '^FuzzSSEReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./durable -run '^$$' -fuzz '^FuzzReadResponse$$' -fuzztime $(FUZZTIME)

## corpus: compile rate of generated clients over ../shared/corpus, beside oapi-codegen's.
corpus:
	$(GO) run ./internal/corpus/cmd/corpus

## buildtime: compile time of the packages generated for the largest corpus
## documents, beside oapi-codegen's for the same documents (medians).
buildtime:
	$(GO) run ./internal/corpus/cmd/buildtime -n 3 -runs 3

## roundtrip: decode and re-encode synthesized instances of every type in gen/
## and in a package generated for every corpus document; print every failure
## class with examples (ROUNDTRIP_FLAGS: -instances N, -seed S, -numbers value).
ROUNDTRIP_FLAGS ?=
roundtrip:
	$(GO) run ./internal/roundtrip/cmd/roundtrip $(ROUNDTRIP_FLAGS)
