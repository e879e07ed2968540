# keel's commands. `make run` and `make test` work on a fresh Debian 12 machine:
# each installs what is missing (scripts/setup.sh), builds, and runs.
BUILD        ?= build
SAN_BUILD    ?= build-san
FUZZ_SECONDS ?= 600
PREFIX       ?= /usr/local
JOBS         ?= $(shell nproc)
CMAKE_FLAGS  ?=
# ccache hashes paths relative to the checkout, so every clone shares the cache.
export CCACHE_BASEDIR ?= $(CURDIR)

.PHONY: all deps build build-san run test bench fuzz install clean

all: build

deps:
	@bash scripts/setup.sh

# Release build: baseline x86-64 with run-time kernel dispatch.
build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# clang-16 build with ASan + UBSan for the unit tests, plus the libFuzzer targets.
build-san: deps
	@CC=clang-16 CXX=clang++-16 cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DKEEL_SANITIZE=ON -DKEEL_FUZZ=ON >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)

# The main job: `keel serve` on the demo model (made on first run).
run: build
	@bash scripts/run.sh $(BUILD)

# Every test: Release ctest (C++ and Python), the C++ tests again under ASan+UBSan,
# and a short run of every fuzzer. Ends with one line: "N passed, N failed".
test: build build-san
	@bash scripts/run_tests.sh $(BUILD) $(SAN_BUILD)

bench: build
	@bash bench/run.sh $(BUILD)

# Each fuzzer for FUZZ_SECONDS (default 600) from its seed corpus.
fuzz: build build-san
	@bash scripts/fuzz.sh $(BUILD) $(SAN_BUILD) $(FUZZ_SECONDS)

# libkeel.so, libkeel.a, include/keel/keel.h, keel.pc and the CMake package into PREFIX.
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
