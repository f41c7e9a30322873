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

# bench runs the Go micro-benchmarks, then the load runs of BENCHMARKS.md:
# a real `dialflow serve` and a separate `dialflow phone --load` on loopback
# carrying LOADCALLS concurrent calls (20 s prompt, one RFC 4733 key each).
# Tables go to bench-load.md (and .json), CPU profiles to bench-profiles/.
LOADCALLS ?= 100,500,1000,2000
LOADRUN   := bin/loadrun --bin $(BIN) --profiles bench-profiles
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o bin/loadrun ./cmd/loadrun
	@rm -f bench-load.md
	@echo "## Levels at 200 calls/s" | tee -a bench-load.md
	$(LOADRUN) --calls $(LOADCALLS) --cps 200 --json bench-load.json | tee -a bench-load.md
	@echo "## Burst: no CPS cap (setup rate)" | tee -a bench-load.md
	$(LOADRUN) --calls 2000 --cps 0 | tee -a bench-load.md
	@echo "## 5% loss on the far end's packets" | tee -a bench-load.md
	$(LOADRUN) --calls 1000 --cps 200 --loss 0.05 | tee -a bench-load.md
	@echo "## Far end sends only its key (VAD)" | tee -a bench-load.md
	$(LOADRUN) --calls 2000 --cps 200 --audio=false | tee -a bench-load.md
	@echo "## Every call recorded" | tee -a bench-load.md
	$(LOADRUN) --calls 1000 --cps 200 --record | tee -a bench-load.md

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
	rm -rf bin bench-profiles bench-load.md bench-load.json
