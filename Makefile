# The two commands: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: build test test-sanitize demo clean

build:
	@scripts/setup.sh $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)

test:
	@scripts/setup.sh --python $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The suite against a build of maskforge's code with ASan and UBSan (in build-sanitize).
test-sanitize:
	@scripts/setup.sh --python build-sanitize
	@cmake -S . -B build-sanitize -DMF_SANITIZE=ON >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	@cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

demo:
	@scripts/setup.sh --python $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
