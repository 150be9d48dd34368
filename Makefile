# hotline: `make run` starts a demo, `make test` runs every test.
GO       ?= go
PKGS     ?= ./...
BENCHTIME ?= 2s

.PHONY: run test check fmt vet staticcheck race bench build fuzz clean

run: ## a working demo on throwaway keys (REDIS_URL, a local Redis, redis-server from PATH, or in-process: -tags demo)
	$(GO) run -tags demo ./cmd/hotline demo

test: ## every test; needs Redis (REDIS_URL, redis-server on PATH, or miniredis off CI)
	$(GO) test -count=1 $(PKGS)
	@echo "== the queue suite again, five times, on a three-master Redis Cluster"
	HOTLINE_TEST_REDIS_MODE=cluster $(GO) test -count=5 ./queue/
	@echo "== two gateways on a Redis Cluster, four more times (it was flaky; it must not be)"
	$(GO) test -count=4 -run '^TestClusterTwoGateways$$' ./cmd/hotline/

check: fmt vet staticcheck race ## what CI enforces beyond tests

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

bench: ## sealing, the intake path against real Redis, locating; then the load command, which writes BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./crypto/... ./gateway/... ./queue/... ./handlers/...
	$(GO) run ./cmd/hotline-load -out BENCHMARKS.md

fuzz: ## every fuzz target for a short while each
	@for t in $$(grep -rl 'func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho 'func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
	    echo "== $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-10s} -fuzzminimizetime 2s $$t || exit 1; \
	  done; done

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/hotline ./cmd/hotline

clean:
	rm -rf bin
