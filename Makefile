# The two commands: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: build test demo clean

build:
	@scripts/setup.sh $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)

test:
	@scripts/setup.sh --python $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo:
	@scripts/setup.sh --python $(BUILD)
	@cmake --build $(BUILD) -j $(JOBS)
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
