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

# The main job: the gateway on loopback with the demo configuration (Ctrl-C stops it).
run: build
	@echo "Barra gateway: API http://127.0.0.1:8080/v1 (docs/openapi.yaml), upload page http://127.0.0.1:8080/"
	@echo "Demo token (loopback demo only): barra-demo-token"
	@echo "Try: curl -H 'Authorization: Bearer barra-demo-token' -H 'Content-Type: application/json' \\"
	@echo "       -d @demo/event.json http://127.0.0.1:8080/v1/events"
	@echo "Activity: the same with -d @demo/activity.json .../v1/activity, then GET /v1/alerts"
	@./$(BUILD)/src/cli/barra serve --config demo/serve.yaml

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
