# hotline: `make run` starts a demo, `make test` runs every test.
GO       ?= go
PKGS     ?= ./...
BENCHTIME ?= 2s
# The race detector is on for every test run, CI's included; `make test RACE=` runs without it.
RACE     ?= -race
# Under -race ./deploy alone takes about 4 minutes on a two-core machine (it runs other suites
# as the shipped ACL's user); the default 10m is too close when packages share the machine.
TIMEOUT  ?= 25m
# go test -json, read by .ci/testjson.go: plain output, a line of counts, and with CI=true a
# failure for any skipped test.
GOTEST    = $(GO) test $(RACE) -json -timeout $(TIMEOUT)
TESTJSON  = $(GO) run .ci/testjson.go

SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -ec

.PHONY: run test check fmt vet staticcheck race bench build fuzz screenshots clean

run: ## a working demo on throwaway keys (REDIS_URL, a local Redis, redis-server from PATH, or in-process: -tags demo)
	$(GO) run -tags demo ./cmd/hotline demo

test: ## every test, with the race detector; needs Redis (REDIS_URL, redis-server on PATH, or miniredis off CI)
	$(GOTEST) -count=1 $(PKGS) | $(TESTJSON)
	@echo "== the queue suite again, five times, on a three-master Redis Cluster"
	HOTLINE_TEST_REDIS_MODE=cluster $(GOTEST) -count=5 ./queue/ ./queue/officer/ | $(TESTJSON)
	@echo "== two gateways on a Redis Cluster, four more times (it was flaky; it must not be)"
	$(GOTEST) -count=4 -run '^TestClusterTwoGateways$$' ./cmd/hotline/ | $(TESTJSON)

check: fmt vet staticcheck test ## what CI enforces: formatting, vet, staticcheck, every test under -race

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

race: ## every test under the race detector (make test does the same by default)
	$(MAKE) test RACE=-race

bench: ## sealing, the intake path against real Redis, locating; then the load command, which writes BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./crypto/... ./gateway/... ./queue/... ./handlers/...
	$(GO) run ./cmd/hotline-load -out BENCHMARKS.md

fuzz: ## every fuzz target for a short while each
	@for t in $$(grep -rl 'func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho 'func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
	    echo "== $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-10s} -fuzzminimizetime 2s $$t || exit 1; \
	  done; done

screenshots: ## docs/console-queue.png and docs/console-case.png, from the console's browser test (needs chromium and Redis)
	HOTLINE_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run '^TestConsoleInBrowser$$' ./handlers/console/

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/hotline ./cmd/hotline

clean:
	rm -rf bin
