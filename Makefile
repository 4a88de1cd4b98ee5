GO ?= go
BIN := bin/muster-test

.PHONY: build test demo bench lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/muster-test

test: lint
	$(GO) test -race -count=1 ./...

demo: build
	./$(BIN) --sut builtin --config scenarios

# Component benchmarks of the mocks and the reference SUT, then the suite measured as users
# run it; prints one table (see BENCHMARKS.md).
bench:
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(GO) test -run '^$$' -bench . -benchtime 2s ./mocks/... ./refsut/... | tee $$tmp && \
	MUSTER_TEST_BENCH=1 MUSTER_TEST_BENCH_GO=$$tmp $(GO) test -count=1 -run TestSuiteBenchmark -v ./internal/benchsuite

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
