# Barra: a thin wrapper around Meson. `make run` and `make test` work on a fresh Debian 12 machine:
# they install what is missing (scripts/install-deps.sh), build, and run.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20

.PHONY: all deps build run test test-unit test-asan test-fuzz fuzz-long bench lint format clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: until the gateway exists, scan the demo folder shipped in the repository.
run: build
	@./$(BUILD)/src/cli/barra scan demo/ ; status=$$?; \
	  if [ $$status -eq 2 ]; then exit 2; fi; \
	  echo "(exit status $$status: 0 = nothing found, 1 = personal data found)"

# Every test: the suite, the suite again under ASan+UBSan, and a short run of each fuzz target.
test: deps
	@./scripts/run-tests.sh

test-unit: build
	meson test -C $(BUILD) --print-errorlogs

fuzz-long: deps
	FUZZ_SECONDS=600 ./scripts/run-tests.sh fuzz

bench: build
	./bench/run.sh

lint: build
	clang-tidy-16 -p $(BUILD) $$(git ls-files 'src/*.c')
	git ls-files '*.c' '*.h' | xargs clang-format-16 --dry-run --Werror

format:
	git ls-files '*.c' '*.h' | xargs clang-format-16 -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
