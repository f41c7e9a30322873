# dialflow — build, run and test entry points. See README.md.
GO        ?= go
BIN       ?= bin/dialflow
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
TESTFLAGS ?= -race -count=1 -timeout 30m

.PHONY: build run test deps bench check fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dialflow

# run starts dialflow on embedded defaults with the simulated phone as the
# trunk (--demo): API on 127.0.0.1:8080, key "demo", data under ./data.
run: build
	$(BIN) serve --demo

# deps installs the Debian packages the tests need (espeak-ng, sipp) when missing.
deps:
	@scripts/install-deps.sh

test: deps
	$(GO) test $(TESTFLAGS) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@cp go.mod /tmp/dialflow.go.mod.bak; cp go.sum /tmp/dialflow.go.sum.bak; \
	$(GO) mod tidy; \
	if ! diff -q go.mod /tmp/dialflow.go.mod.bak >/dev/null || ! diff -q go.sum /tmp/dialflow.go.sum.bak >/dev/null; then \
	  echo "go mod tidy changed go.mod/go.sum"; cp /tmp/dialflow.go.mod.bak go.mod; cp /tmp/dialflow.go.sum.bak go.sum; exit 1; fi

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

clean:
	rm -rf bin
