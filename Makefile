# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# bpf/%.bpf.c -> build/%.bpf.o -> build/%.skel.h -> userspace.
# Files are found by pattern, so adding a module or a test needs no edit here:
#   userspace/*/*.c (but the three mains) -> build/libxlb.a
#   userspace/P/P.c (P = xlbd, xlbctl, xlb-decap) -> build/P
#   tests/test_*.c, tests/bench_*.c     -> build/tests/<name> (+ tests/lib/*.c)
#   tests/bpf/*.bpf.c                   -> build/tests/*.bpf.o + skeletons

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

V ?= 0
ifeq ($(V),0)
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
else
Q =
msg =
endif

BUILD    := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

PKGS     := libbpf libxdp libmnl libevent jansson libcyaml libcurl
# Read when a program links, not when make starts: on a fresh machine
# `make test` installs the -dev packages (deps) in the same make, first.
PKG_LIBS  = $(shell pkg-config --libs $(PKGS))
LDLIBS    = $(PKG_LIBS) -lelf -lz -lm

# One version for the programs, the API and xlb_build_info: scripts/version.sh
# (git describe, else debian/changelog's), unless given (debian/rules gives
# the package's: make XLB_VERSION=...).
ifeq ($(origin XLB_VERSION),undefined)
XLB_VERSION := $(shell sh scripts/version.sh)
endif
ifeq ($(origin XLB_COMMIT),undefined)
XLB_COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	    -I. -I$(BUILD) -D_GNU_SOURCE \
	    -DXLB_VERSION='"$(XLB_VERSION)"' -DXLB_COMMIT='"$(XLB_COMMIT)"'
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I. -I$(ARCH_INC) \
	    -Wall -Wextra -Werror -Wno-unused-parameter

MAPS_H   := $(wildcard maps/*.h)
BPF_H    := $(wildcard bpf/*.h)
BPF_SRC  := $(wildcard bpf/*.bpf.c)
BPF_OBJ  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRC))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))

MAINS    := userspace/xlbd/xlbd.c userspace/xlbctl/xlbctl.c userspace/xlb-decap/xlb-decap.c
LIB_SRC  := $(filter-out $(MAINS),$(wildcard userspace/*/*.c))
LIB_OBJ  := $(patsubst userspace/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
LIB_H    := $(wildcard userspace/*/*.h)
PROGS    := $(patsubst %,$(BUILD)/%,$(notdir $(basename $(MAINS))))

TEST_BPF_SRC := $(wildcard tests/bpf/*.bpf.c)
TEST_SKELS   := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/%.skel.h,$(TEST_BPF_SRC))
TEST_LIB_SRC := $(wildcard tests/lib/*.c)
TEST_LIB_H   := $(wildcard tests/lib/*.h)
TEST_SRC     := $(wildcard tests/test_*.c tests/bench_*.c)
TEST_BINS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

PREFIX   ?= /usr/local
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MAN8     := $(wildcard man/*.8)
MAN5     := $(wildcard man/*.5)
UNITS    := $(notdir $(wildcard contrib/systemd/*.service))

# The sources that print the version are rebuilt when it changes (a commit),
# the others are not; build/version holds the one they were built with.
VERSION_USERS := $(shell grep -l -e XLB_VERSION -e XLB_COMMIT $(LIB_SRC) $(MAINS) $(TEST_SRC))

.PHONY: all progs deps test test-deb deb chaos demo demo-fleet bench bench-e2e bench-health clean install format FORCE
all: $(BPF_OBJ) $(SKELS) $(BUILD)/libxlb.a $(PROGS) $(TEST_BINS)

# The three programs only (what the Debian package ships; no cmocka needed).
progs: $(PROGS)

$(BUILD)/version: FORCE | $(BUILD)
	$(Q)echo '$(XLB_VERSION) $(XLB_COMMIT)' | cmp -s - $@ || echo '$(XLB_VERSION) $(XLB_COMMIT)' >$@

$(filter $(LIB_OBJ),$(patsubst userspace/%.c,$(BUILD)/obj/%.o,$(VERSION_USERS))) \
$(filter $(PROGS),$(patsubst %,$(BUILD)/%,$(notdir $(basename $(filter $(MAINS),$(VERSION_USERS)))))) \
$(filter $(TEST_BINS),$(patsubst tests/%.c,$(BUILD)/tests/%,$(VERSION_USERS))): $(BUILD)/version

deps:
	$(Q)bash scripts/deps.sh

$(BUILD) $(BUILD)/obj $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(MAPS_H) $(BPF_H) Makefile | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.bpf.o: tests/bpf/%.bpf.c $(MAPS_H) $(BPF_H) $(wildcard tests/bpf/*.h) Makefile | $(BUILD)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$(basename $(notdir $<))) > $@

$(BUILD)/obj/%.o: userspace/%.c $(LIB_H) $(MAPS_H) $(SKELS) Makefile | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libxlb.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(PROGS): $(BUILD)/%: userspace/$$*/$$*.c $(BUILD)/libxlb.a $(LIB_H) $(MAPS_H)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< -o $@ $(BUILD)/libxlb.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_LIB_SRC) $(TEST_LIB_H) $(TEST_SKELS) $(BUILD)/libxlb.a $(LIB_H) $(MAPS_H) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TEST_LIB_SRC) -o $@ $(BUILD)/libxlb.a $(LDLIBS) -lcmocka

test: deps all
	$(Q)bash tests/run.sh $(BUILD)/tests

# The fault tests at full length (`make test` runs them shorter): 60 s of
# backend chaos and 30 kill -9 points; each prints its figures.
CHAOS_SECONDS  ?= 60
KILL_ITERATIONS ?= 30
chaos: deps all
	$(Q)CHAOS_SECONDS=$(CHAOS_SECONDS) bash tests/e2e/test_chaos.sh
	$(Q)KILL_ITERATIONS=$(KILL_ITERATIONS) bash tests/e2e/test_crash.sh

demo: deps all
	$(Q)bash scripts/demo.sh

# Three xlb hosts behind an ECMP router (BGP + BFD with BIRD): one dies.
demo-fleet: deps all
	$(Q)bash scripts/demo_fleet.sh

bench: deps all
	$(Q)$(BUILD)/tests/bench_dp
	$(Q)$(BUILD)/tests/bench_scale
	$(Q)$(BUILD)/tests/bench_metrics

bench-e2e: deps all
	$(Q)bash scripts/bench_e2e.sh

# 5,000 health-checked backends: xlbd's CPU, check latency, time to eject.
bench-health: deps all
	$(Q)bash scripts/bench_health.sh

# The programs, their man pages, the systemd units and xlbctl's bash
# completion. debian/rules runs it with PREFIX=/usr and Debian's UNITDIR.
install: progs
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 contrib/bash-completion/xlbctl $(DESTDIR)$(BASHCOMPDIR)/xlbctl
	for u in $(UNITS); do \
		sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' contrib/systemd/$$u \
			>$(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

# The Debian package, built from a copy of the tree into build/deb/ and
# checked by lintian; test-deb also installs, checks and purges it (root).
deb: deps
	$(Q)bash scripts/deb.sh $(BUILD)/deb

test-deb: deps
	$(Q)bash scripts/test_deb.sh

format:
	clang-format -i $(BPF_SRC) $(BPF_H) $(MAPS_H) $(LIB_SRC) $(LIB_H) $(wildcard $(MAINS)) $(TEST_SRC)

clean:
	rm -rf $(BUILD)

# ---- Sanitizers -------------------------------------------------------------
# build/asan/: libxlb and the unit tests (tests/test_*.c) built by clang with
# ASan+UBSan; `make test` runs them again through tests/fuzz/sanitize.sh (the
# cmocka tests only, not the end-to-end scripts). A sanitizer report, a leak
# included, fails the test. libbpf, libxdp and the other libraries are not
# instrumented.

SAN_CC       ?= clang
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS   := $(CFLAGS) -O1 $(SAN_FLAGS)
ASAN_LIB_OBJ := $(patsubst userspace/%.c,$(BUILD)/asan/obj/%.o,$(LIB_SRC))
ASAN_TESTS   := $(patsubst tests/%.c,$(BUILD)/asan/tests/%,$(wildcard tests/test_*.c))

.PHONY: asan test-asan
asan: $(ASAN_TESTS)

$(BUILD)/asan/obj $(BUILD)/asan/tests:
	$(Q)mkdir -p $@

$(BUILD)/asan/obj/%.o: userspace/%.c $(LIB_H) $(MAPS_H) $(SKELS) Makefile | $(BUILD)/asan/obj
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D) && $(SAN_CC) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/asan/libxlb.a: $(ASAN_LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/tests/%: tests/%.c $(TEST_LIB_SRC) $(TEST_LIB_H) $(TEST_SKELS) $(BUILD)/asan/libxlb.a $(LIB_H) $(MAPS_H) | $(BUILD)/asan/tests
	$(call msg,LINK-ASAN,$@)
	$(Q)$(SAN_CC) $(SAN_CFLAGS) -Itests $< $(TEST_LIB_SRC) -o $@ \
		$(BUILD)/asan/libxlb.a $(LDLIBS) -lcmocka

test-asan: deps all $(ASAN_TESTS)
	$(Q)bash tests/fuzz/sanitize.sh $(BUILD)/asan/tests

# ---- Fuzzing --------------------------------------------------------------
# build/fuzz/: the libFuzzer targets tests/fuzz/fuzz_*.c (tests/fuzz/README.md)
# over a libxlb built with ASan+UBSan and coverage. `make fuzz FUZZ_SECONDS=N`
# runs each for N s, keeping new inputs in build/fuzz/corpus/; `make test`
# runs each for FUZZ_TEST_SECONDS on the committed corpus tests/fuzz/corpus/.
# Needs clang's libFuzzer runtime (Debian: libclang-rt-14-dev).

FUZZ_CFLAGS  := $(SAN_CFLAGS) -fsanitize=fuzzer-no-link
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
FUZZ_LIB_OBJ := $(patsubst userspace/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DEPS    := $(TEST_LIB_SRC) $(TEST_LIB_H) $(wildcard tests/fuzz/*.h) $(LIB_H) $(MAPS_H)

.PHONY: fuzz-build fuzz test-fuzz
fuzz-build: $(FUZZ_BINS)

$(BUILD)/fuzz/obj:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/obj/%.o: userspace/%.c $(LIB_H) $(MAPS_H) $(SKELS) Makefile | $(BUILD)/fuzz/obj
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(SAN_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libxlb.a: $(FUZZ_LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS) $(TEST_SKELS) $(BUILD)/fuzz/libxlb.a | $(BUILD)/fuzz/obj
	$(call msg,LINK-FUZZ,$@)
	$(Q)$(SAN_CC) $(SAN_CFLAGS) -fsanitize=fuzzer -Itests $< $(TEST_LIB_SRC) -o $@ \
		$(BUILD)/fuzz/libxlb.a $(LDLIBS)

test-fuzz: deps $(FUZZ_BINS)
	$(Q)bash tests/fuzz/run.sh --test $(FUZZ_TEST_SECONDS) $(FUZZ_BINS)

fuzz: deps $(FUZZ_BINS)
	$(Q)bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# xlbd under valgrind memcheck: start, changes, stop, restart, stop (~90 s;
# not part of `make test`).
.PHONY: valgrind
valgrind: deps all
	$(Q)bash tests/fuzz/valgrind.sh

# `make test` also runs the unit tests under the sanitizers and each fuzz
# target briefly (before tests/run.sh: prerequisites come first).
test: test-asan test-fuzz
