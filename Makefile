# branchgate build and test entry points. Every target uses the pinned Deno from npm,
# installed into .tools/ (git-ignored) when the right version is not already on PATH.

DENO_VERSION := 2.9.6
TOOLS        := $(CURDIR)/.tools
export DENO_DIR := $(TOOLS)/deno-dir
export DENO_NO_UPDATE_CHECK := 1
export NO_COLOR := 1

# Use a deno on PATH only when it is exactly the pinned version.
SYSTEM_DENO := $(shell command -v deno 2>/dev/null)
ifneq ($(SYSTEM_DENO),)
  ifeq ($(shell $(SYSTEM_DENO) --version 2>/dev/null | head -n1 | cut -d' ' -f2),$(DENO_VERSION))
    DENO := $(SYSTEM_DENO)
  endif
endif
DENO ?= $(TOOLS)/node_modules/.bin/deno

LOG := $(CURDIR)/build/test-logs
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

.PHONY: all deno deps check fmt lint types unit integration test run bench bench-crypto \
        selftest image image-measure compile clean apt bench-iperf fuzz bench-memory bench-ike \
        bench-ike-engine

all: check

$(TOOLS)/node_modules/.bin/deno:
	@echo "installing deno $(DENO_VERSION) from npm into .tools/"
	@mkdir -p $(TOOLS)
	@cd $(TOOLS) && npm install --no-save --no-audit --no-fund --loglevel=error \
	    --prefix $(TOOLS) deno@$(DENO_VERSION) >/dev/null
	@$@ --version | head -n1

deno: $(DENO)

# Fetch npm dependencies exactly as deno.lock records them.
deps: deno
	@$(DENO) install --frozen >/dev/null

fmt: deps
	$(DENO) fmt

# make check = format check, lint, type check.
check: deps
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check --frozen src/ hw/ tests/

# Debian packages the root integration tests and the demo need.
apt:
	@bash tests/interop/apt.sh

unit: deps
	@mkdir -p $(LOG)
	$(DENO) test --frozen --allow-all --parallel tests/unit tests/vectors

integration: deps apt
	@mkdir -p $(LOG)
	$(DENO) test --frozen --allow-all tests/interop

# make test = check + unit + (as root) integration, with one closing "N passed, N failed" line.
test: deps
	@bash tests/run.sh "$(DENO)" "$(IS_ROOT)"

# Longer codec fuzz run: FUZZ_N mutants per IKE version (default 1,000,000), FUZZ_SEED to replay.
fuzz: deps
	@BRANCHGATE_FUZZ_N=$(or $(FUZZ_N),1000000) \
	    BRANCHGATE_FUZZ_SEED=$(or $(FUZZ_SEED),$$(od -An -N4 -tu4 /dev/urandom | tr -d " ")) \
	    $(DENO) test --frozen --allow-all tests/fuzz

selftest: deps
	$(DENO) task branchgate selftest

bench-crypto: deps
	@$(DENO) run --frozen --allow-all tests/bench/crypto.ts
	@$(DENO) run --frozen --allow-all tests/bench/packet_alloc.ts

bench: deps
	@$(DENO) run --frozen --allow-all tests/bench/datapath.ts

# iperf3 between the LANs through strongSwan<->strongSwan, branchgate<->strongSwan and
# branchgate<->branchgate (each with its own IKE, over IKEv1 and over IKEv2), one run (root).
bench-iperf: deps apt
	@$(DENO) run --frozen --allow-all tests/bench/iperf.ts all

# The image's RSS (idle, 1 and 100 tunnels, after TCP, after a flood) and the responder's CPU per
# IKEv1 setup, each vs strongSwan in the same run (root; tests/bench/memory.ts, ike_setup.ts).
bench-memory: image apt
	@$(DENO) run --frozen --allow-all tests/bench/memory.ts both

bench-ike: image apt
	@$(DENO) run --frozen --allow-all tests/bench/ike_setup.ts both

# The IKE engine alone (no sockets, no data path): responder CPU per setup, in one process.
bench-ike-engine: deps
	@$(DENO) run --frozen --allow-all tests/bench/ike_engine.ts both

run: deps apt
	@bash tests/interop/demo.sh "$(DENO)"

# Firmware image: bundled code + the aarch64 Deno from npm (build/image/, A/B slot layout), and
# the same with the host Deno (build/image-x86_64/). npm has @deno/linux-arm64-glibc only up to
# 2.9.5 (deno@2.9.6 lists a 2.9.6 the registry does not have): set to $(DENO_VERSION) once it does.
AARCH64_DENO_VERSION := 2.9.5
image: deps
	@bash tests/image/build.sh "$(DENO)" "$(DENO_VERSION)" "$(AARCH64_DENO_VERSION)"

# Start-up time and max RSS: source vs bundle natively, and the aarch64 image under qemu-user.
image-measure: image
	@bash tests/image/measure.sh "$(DENO)"

# One executable via deno compile: needs its denort runtime downloadable (or DENORT_BIN set);
# fails with a clear message here. The image does not use it.
compile: deps
	@bash tests/image/compile.sh "$(DENO)"

clean:
	rm -rf build
