# The two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/unicat
CONFIG    ?=
CONFIGARG := $(if $(CONFIG),--config $(CONFIG),)
TESTFLAGS ?= -count=1 -timeout 30m

.PHONY: run build test vet size bench gobench fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/unicat

# Build, load the demo libraries from testdata/ and serve them.
run: build
	$(BIN) import $(CONFIGARG) --all
	$(BIN) serve $(CONFIGARG)

# The whole test suite (what CI runs through .ci/run).
test: vet
	$(GO) test $(TESTFLAGS) ./...

# go vet, gofmt, and the hygiene gate: go.mod tidy, no dead code, staticcheck
# (internal/tools/hygiene.sh says how, and where the accepted findings are).
vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	GO=$(GO) bash internal/tools/hygiene.sh

# The largest files and functions (lines, cyclomatic complexity) over the
# sizes a reader takes in; SIZEFLAGS="-top 25 -tests=false" and such.
SIZEFLAGS ?=
size:
	$(GO) run ./internal/tools/codesize $(SIZEFLAGS)

# unicat side by side with yaz and Zebra on one generated corpus: prints one
# Markdown table (see bench/RESULTS.md). BENCH_N=20000 for a quick run.
BENCH_N ?= 1000000
bench: build
	BENCH_N=$(BENCH_N) $(GO) run ./cmd/unicat-bench -unicat $(BIN)

# Every package's Go benchmarks (they print records/s, ratios against yaz/Zebra).
gobench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

# A short run of every fuzz target.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin data
