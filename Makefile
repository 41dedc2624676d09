# The newcomer's front door: each target installs missing Debian packages
# first (scripts/install-deps), then drives CMake presets.
#   make            build (release) -> build/release/aipm
#   make demo       build and run the main job on the embedded store
#   make test       unit + command-level tests (a CTest test per CLI group),
#                   the figures they report, then unit tests under ASan+UBSan
#   make bench      benchmarks (bench/), with their peers
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
AIPM = build/release/aipm

.PHONY: all deps build demo test test-dev test-asan test-tsan bench fuzz format \
	format-check clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j $(JOBS) --target aipm

demo: build
	@$(AIPM) demo demo-workspace

test: deps format-check test-dev test-asan

test-dev:
	@cmake --preset $(if $(CI),ci,dev) >/dev/null
	@cmake --build build/$(if $(CI),ci,dev) -j $(JOBS)
	@cd build/$(if $(CI),ci,dev) && rm -rf cli-figures && \
	    { ctest --output-on-failure -j $(JOBS); rc=$$?; \
	      echo "Figures from the command-level tests (README):"; \
	      cat cli-figures/*.txt 2>/dev/null; exit $$rc; }

test-asan:
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS)

# The HTTP server's cases under ThreadSanitizer (not part of `make test`:
# a third full build). A race report aborts the process that found it, so
# the case it ran in fails.
test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build build/tsan --target aipm -j $(JOBS)
	@cd build/tsan && TSAN_OPTIONS=halt_on_error=1 \
	    ctest --output-on-failure -R '^cli_serve$$'

bench: build
	@scripts/install-deps --bench
	@bench/ingest/run $(AIPM)
	@bench/generate/run $(AIPM)

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j $(JOBS)
	@for t in build/fuzz/*_fuzzer; do \
	    name=$$(basename $$t); mkdir -p build/fuzz/corpus-$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        build/fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

# STYLE.md: the house format is checked with every test run.
format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') || \
	    { echo "format: run 'make format'" >&2; exit 1; }

clean:
	rm -rf build
