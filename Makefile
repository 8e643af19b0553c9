# promoctl — make targets. Every target works on a fresh machine with Go,
# gcc, node/npm and git; anything else is installed by the target itself.

GO      ?= go
BIN     := bin/promoctl
ADDR    ?= 127.0.0.1:8787
REPO    ?= examples/acme

.PHONY: all build install run test test-short fuzz fuzz-targets bench lint lint-generated lint-docs fmt clean chromium redis-server

all: build

# build stamps the version (git describe), commit and build date into the
# binary; `promoctl version` prints them.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/promoctl

## install: promoctl on your PATH (in $(shell $(GO) env GOPATH)/bin), stamped like build
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/promoctl

## run: the sidecar on the example repo (http://$(ADDR))
run: build
	./$(BIN) serve --repo $(REPO) --addr $(ADDR)

## test: vet, formatting, every test with the race detector (the console's
## run in headless Chromium, usage against a real redis-server each test
## starts on a free port), and the check that the OPA peer benchmark
## computes the same decisions (its own module)
test: chromium redis-server
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	PROMOCTL_REQUIRE_REDIS=1 $(GO) test -race -count=1 ./...
	cd bench/opa && $(GO) test -mod=mod -count=1 .

## chromium: Debian's chromium for the console's browser tests, installed
## only when missing
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## redis-server: Debian's redis-server for the usage store's tests, installed
## only when missing (tests start their own instance; none is left running)
redis-server:
	@command -v redis-server >/dev/null 2>&1 || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }

## test-short: the quick loop: every test in -short mode (no race
## detector; end-to-end tests that build the binary, run a sidecar or a
## browser are skipped)
test-short:
	$(GO) test -short -count=1 ./...

## fuzz: run every fuzz target for FUZZTIME each, one after the other (their
## seed corpora already run in make test), then the incremental-reload
## property over PROPERTY_STEPS random edits (make test runs a short one).
## The targets are those the code defines (make fuzz-targets lists them).
FUZZTIME ?= 30s
PROPERTY_STEPS ?= 300
fuzz:
	@targets="$$($(FUZZ_LIST))" || exit 1; \
	test -n "$$targets" || { echo "no fuzz targets found"; exit 1; }; \
	for t in $$targets; do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1 || exit 1; \
	done
	$(GO) test ./compiler/snapshot -run '^TestIncrementalEqualsFresh$$' -count=1 -args -incremental.steps=$(PROPERTY_STEPS)

## fuzz-targets: every fuzz target of the module as package:Name, as
## `go test -list` finds them
MODULE := $(shell $(GO) list -m 2>/dev/null)
FUZZ_LIST = $(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { names[n++] = $$1; next } \
	/^ok/ { pkg = $$2; sub("^$(MODULE)/", "", pkg); for (i = 0; i < n; i++) print pkg ":" names[i]; n = 0 }'
fuzz-targets:
	@$(FUZZ_LIST)

## bench: the performance targets on generated S, M and L repos, written to
## BENCHMARKS.md (BENCH_SIZES=S,M for a shorter run without L)
bench: redis-server
	bash bench/run.sh

## lint: go.mod tidy, vet, formatting, staticcheck and gosec. The analysers run at a
## pinned version through `go run pkg@version`, so their dependencies stay
## out of go.mod (the first run downloads them). Exceptions are justified
## where they are: `//lint:ignore CHECK reason` or `// #nosec GXXX -- reason`.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOSEC       ?= github.com/securego/gosec/v2/cmd/gosec@v2.30.0
lint:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) run $(STATICCHECK) ./...
	@# promotions/repogen writes synthetic config repos; it never reads input.
	$(GO) run $(GOSEC) -quiet -exclude-generated -exclude-dir=examples -exclude-dir=promotions/repogen ./...

## lint-generated: files generated from others are up to date — the
## OpenAPI document the sidecar embeds and the Go client generated from it
## (both from docs/openapi.yaml)
GENERATED := evaluator/server/openapi.json examples/clients/go/apiclient/client.gen.go
lint: lint-generated
lint-generated:
	$(GO) generate ./evaluator/server ./examples/clients/go/apiclient
	@git diff --quiet -- $(GENERATED) || { git diff --stat -- $(GENERATED); echo "stale generated files: commit what go generate wrote"; exit 1; }

## lint-docs: the documents that list what the code defines are current —
## docs/rules.md's table of codes, and docs/openapi.yaml's routes and error
## codes against the server's
lint: lint-docs
lint-docs:
	$(GO) test -count=1 -run '^TestCodesDocumented$$' ./promotions
	$(GO) test -count=1 -run '^TestOpenAPI(EmbeddedDocumentIsTheYAML|DocumentIsValid|DocumentsEveryRoute|ErrorCodesAreTheServers)$$' ./evaluator/server

fmt:
	gofmt -w .

clean:
	rm -rf bin
