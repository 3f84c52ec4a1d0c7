# SPDX-License-Identifier: GPL-2.0-or-later
#
# livemig: plain GNU make, no generated build system.
#   make                 build the programs into $(O)
#   make check           install test dependencies (as root), run the host's
#                        tiers (no QEMU guest, no second build; within 30 min)
#   make check-all       make check, then the kernel module in QEMU and every
#                        tier again under ASan+UBSan
#   make check-kernels   the kernel module on 5.10, 6.12 and sid's kernel (QEMU)
#   make check-launch    conversion and launch of Debian 12 guests (libguestfs,
#                        libvirt, QEMU TCG)
#   make check-launch-rbd  a test launch from clones of a point on a scratch
#                        Ceph cluster (tests/with_ceph.sh, qemu-block-extra)
#   make check-e2e       a whole migration of a running Debian 12 server with
#                        PostgreSQL, installed from the .debs (QEMU TCG, libvirt)
#   make demo            build and run the end-to-end demo
#   make install DESTDIR=... PREFIX=...   programs and their man pages
#                        (livemig-launch in SBINDIR, next to livemig-staging)
#   make clean           remove $(O), the build directory
# Knobs: V=1 (show commands), SANITIZE=1 (ASan+UBSan build in build/asan),
#        O=DIR (build directory), NO_DEPS=1 (do not check/install packages),
#        LAUNCH=1 (livemig-launch is required: fail without its -dev packages),
#        RBD=1 / RBD=0 (livemig-staging with / without the Ceph RBD image
#        store; default: with it where librbd-dev is installed).

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
VERSION := 0.1.0

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1 -g
else
O ?= build
SANFLAGS :=
OPT := -O2 -g
endif

# The tests run the Debian packages ci/deps.sh installs, found first, not
# what a developer's PATH puts before them: a pyenv shim in front of python3
# took 9 s per start on a busy machine, against 0.7 s for /usr/bin/python3.
export PATH := /usr/sbin:/usr/bin:/sbin:/bin:$(PATH)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# What each program links, by pkg-config name: only what its code calls.
AGENT_PKGS   := openssl jansson libisal libcurl libsystemd
CLI_PKGS     := openssl jansson libcurl libudev
STAGING_PKGS := openssl jansson libisal libcurl zlib libmicrohttpd
CONSOLE_PKGS := openssl jansson libmicrohttpd sqlite3 libpq
LIB_TEST_PKGS  := openssl jansson libisal zlib
HOST_TEST_PKGS := openssl jansson libcurl libudev
ALL_PKGS := $(sort $(AGENT_PKGS) $(CLI_PKGS) $(STAGING_PKGS) $(CONSOLE_PKGS) $(LIB_TEST_PKGS))
# the libraries behind each name, where pkg-config is missing
lib_openssl := -lssl -lcrypto
lib_jansson := -ljansson
lib_libisal := -lisal
lib_libcurl := -lcurl
lib_libsystemd := -lsystemd
lib_libudev := -ludev
lib_libmicrohttpd := -lmicrohttpd
lib_sqlite3 := -lsqlite3
lib_libpq := -lpq
lib_zlib := -lz
pkg_libs = $(or $(shell pkg-config --libs $(1) 2>/dev/null),$(foreach p,$(1),$(lib_$(p))))
AGENT_LIBS   := $(call pkg_libs,$(AGENT_PKGS))
CLI_LIBS     := $(call pkg_libs,$(CLI_PKGS))
STAGING_LIBS := $(call pkg_libs,$(STAGING_PKGS))
CONSOLE_LIBS := $(call pkg_libs,$(CONSOLE_PKGS))
LIB_TEST_LIBS  := $(call pkg_libs,$(LIB_TEST_PKGS))
HOST_TEST_LIBS := $(call pkg_libs,$(HOST_TEST_PKGS))
PKG_CFLAGS := $(shell pkg-config --cflags $(ALL_PKGS) 2>/dev/null)
CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -DLIVEMIG_VERSION='"$(VERSION)"' \
	   -Wall -Wextra -Werror -Wshadow -Wformat=2 -pthread -MMD -MP \
	   $(SANFLAGS) $(PKG_CFLAGS)
LDFLAGS += -pthread $(SANFLAGS)

# src/lib: wire protocol and utilities, for every program (liblivemig.a);
# src/host: host probing, for livemig and livemigd (liblivemig-host.a)
LIB_SRCS     := $(sort $(wildcard src/lib/*.c))
HOST_SRCS    := $(sort $(wildcard src/host/*.c))
AGENT_SRCS   := $(sort $(wildcard src/agent/*.c))
CLI_SRCS     := $(sort $(wildcard src/cli/*.c))
STAGING_SRCS := $(sort $(wildcard src/staging/*.c))
CONSOLE_SRCS := $(sort $(wildcard src/console/*.c))
LAUNCH_SRCS  := $(sort $(wildcard src/launch/*.c))
UNIT_SRCS    := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS     := $(LIB_SRCS:%.c=$(O)/%.o)
HOST_OBJS    := $(HOST_SRCS:%.c=$(O)/%.o)
AGENT_OBJS   := $(AGENT_SRCS:%.c=$(O)/%.o)
CLI_OBJS     := $(CLI_SRCS:%.c=$(O)/%.o)
STAGING_OBJS := $(STAGING_SRCS:%.c=$(O)/%.o)
CONSOLE_OBJS := $(CONSOLE_SRCS:%.c=$(O)/%.o)
LAUNCH_OBJS  := $(LAUNCH_SRCS:%.c=$(O)/%.o)
# livemig-launch links libguestfs and libvirt (target hosts only): built
# when their -dev packages are installed (ci/deps.sh launch), else skipped
LAUNCH_PKGS  := libguestfs libvirt jansson
HAVE_LAUNCH  := $(shell pkg-config --exists $(LAUNCH_PKGS) 2>/dev/null && echo 1)
LAUNCH_CFLAGS := $(shell pkg-config --cflags $(LAUNCH_PKGS) 2>/dev/null)
LAUNCH_LIBS  := $(shell pkg-config --libs $(LAUNCH_PKGS) 2>/dev/null)
# the package builds ship it: there a missing -dev package is an error, not
# a program silently left out
ifeq ($(LAUNCH),1)
ifneq ($(HAVE_LAUNCH),1)
$(error LAUNCH=1: livemig-launch needs libguestfs-dev and libvirt-dev (pkg-config $(LAUNCH_PKGS)): apt-get install libguestfs-dev libvirt-dev, or ci/deps.sh launch)
endif
endif
# The Ceph RBD image store (src/staging/store_rbd.c) links librbd and
# librados: built where librbd-dev is installed (ci/deps.sh build and test
# install it), so a plain `make` works on a machine without it; RBD=1
# makes it required (the Debian package), RBD=0 leaves it out.
HAVE_RBD := $(shell test -e /usr/include/rbd/librbd.h && test -e /usr/include/rados/librados.h && echo 1)
RBD ?= $(if $(HAVE_RBD),1,0)
ifeq ($(RBD),1)
ifneq ($(HAVE_RBD),1)
$(error RBD=1: the RBD image store needs librbd-dev (rbd/librbd.h, rados/librados.h): apt-get install librbd-dev, or build with RBD=0)
endif
STAGING_LIBS += -lrbd -lrados
$(O)/src/staging/store_backend.o: CPPFLAGS += -DLIVEMIG_RBD
# livemig-launch's RBD clones (src/launch/rbd_disk.c), the same libraries
LAUNCH_LIBS  += -lrbd -lrados
LAUNCH_SRCS  := $(filter-out src/launch/rbd_disk_none.c,$(LAUNCH_SRCS))
else
STAGING_SRCS := $(filter-out src/staging/store_rbd%,$(STAGING_SRCS))
STAGING_OBJS := $(STAGING_SRCS:%.c=$(O)/%.o)
LAUNCH_SRCS  := $(filter-out src/launch/rbd_disk.c,$(LAUNCH_SRCS))
endif
LAUNCH_OBJS  := $(LAUNCH_SRCS:%.c=$(O)/%.o)
UNIT_BINS    := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
# test_launch_* link livemig-launch's objects (libguestfs, libvirt)
ifneq ($(HAVE_LAUNCH),1)
UNIT_BINS    := $(filter-out $(O)/tests/unit/test_launch_%,$(UNIT_BINS))
endif
PROGRAMS     := $(O)/livemigd $(O)/livemig $(O)/livemig-staging $(O)/livemig-console \
		$(if $(HAVE_LAUNCH),$(O)/livemig-launch)
# the programs' pages (livemig-setup.8 goes with dist/livemig-setup, which
# the packages install)
MAN1 := docs/man/livemig.1
MAN8 := docs/man/livemigd.8 docs/man/livemig-staging.8 docs/man/livemig-console.8
LIB_A        := $(O)/liblivemig.a
HOST_A       := $(O)/liblivemig-host.a

.PHONY: all install clean fuzz deps-build deps-test deb rpm demo bench bench-kmod bench-points bench-lag bench-kmod-lag bench-slowlink bench-ext4-swap bench-scale deps-launch check-launch check-launch-rbd deps-e2e check-e2e check-all \
	check check-lint diagrams check-unit check-fuzz check-integration check-console-pg check-rbd check-web check-sanitized check-packages check-quickstart check-stress \
	check-kmod check-kmod-module check-kmod-agent check-kmod-full check-kernels
.DELETE_ON_ERROR:
# a unit test's object outlives its link: no recompiling on the next run
.SECONDARY: $(UNIT_BINS:%=%.o)

all: $(PROGRAMS)

# the one object that knows whether RBD is in: rebuilt when RBD changes
# (and, through one of its objects, livemig-launch relinked with rbd_disk.o
# or rbd_disk_none.o)
$(O)/src/staging/store_backend.o: $(O)/rbd.flag
$(O)/src/launch/launch_rbd.o: $(O)/rbd.flag
$(O)/rbd.flag: FORCE
	@mkdir -p $(@D)
	$(Q)[ "$$(cat $@ 2>/dev/null)" = "$(RBD)" ] || echo $(RBD) > $@
FORCE:

# Each part sees its own headers and the libraries' it may use, never
# another program's (two programs may have headers of the same name).
$(O)/src/lib/%.o: CPPFLAGS += -Isrc/lib
$(O)/src/host/%.o: CPPFLAGS += -Isrc/lib -Isrc/host
$(O)/src/agent/%.o: CPPFLAGS += -Isrc/lib -Isrc/host -Isrc/agent
$(O)/src/cli/%.o: CPPFLAGS += -Isrc/lib -Isrc/host -Isrc/cli
$(O)/src/staging/%.o: CPPFLAGS += -Isrc/lib -Isrc/staging
$(O)/src/console/%.o: CPPFLAGS += -Isrc/lib -Isrc/console
# unit tests likewise: test_agent_* see src/agent, test_host_* src/host...
$(O)/tests/unit/%.o: CPPFLAGS += -Isrc/lib
$(O)/tests/unit/test_host_%.o: CPPFLAGS += -Isrc/host
$(O)/tests/unit/test_agent_%.o: CPPFLAGS += -Isrc/host -Isrc/agent
$(O)/tests/unit/test_staging_%.o: CPPFLAGS += -Isrc/staging
$(O)/tests/unit/test_console_%.o: CPPFLAGS += -Isrc/console
$(O)/src/launch/%.o: CPPFLAGS += -Isrc/lib -Isrc/launch $(LAUNCH_CFLAGS)
$(O)/tests/unit/test_launch_%.o: CPPFLAGS += -Isrc/launch $(LAUNCH_CFLAGS)
$(O)/tests/unit/test_text_edit.o: CPPFLAGS += -Isrc/launch
$(O)/tests/unit/test_install_disks.o: CPPFLAGS += -Isrc/cli

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# the console's web page is built into the program (.incbin)
$(O)/src/console/web_assets.o: $(wildcard src/console/web/*)

$(LIB_A): $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HOST_A): $(HOST_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

LINK = @$(if $(Q),echo "  LD      $@")
ld = $(Q)$(CC) $(LDFLAGS) -o $@ $^ $(1) $(LDLIBS)

$(O)/livemigd: $(AGENT_OBJS) $(HOST_A) $(LIB_A)
	$(LINK)
	$(call ld,$(AGENT_LIBS))

$(O)/livemig: $(CLI_OBJS) $(HOST_A) $(LIB_A)
	$(LINK)
	$(call ld,$(CLI_LIBS))

$(O)/livemig-staging: $(STAGING_OBJS) $(LIB_A)
	$(LINK)
	$(call ld,$(STAGING_LIBS))

$(O)/livemig-console: $(CONSOLE_OBJS) $(LIB_A)
	$(LINK)
	$(call ld,$(CONSOLE_LIBS))

$(O)/livemig-launch: $(LAUNCH_OBJS) $(LIB_A)
	$(LINK)
	$(call ld,$(LAUNCH_LIBS))

# Unit tests link what the code under test links: test_agent_* and
# test_staging_* that program's objects (minus main), since two programs
# may use the same internal names; test_host_* the host library; the
# others the shared library alone.
AGENT_LIBOBJS   := $(filter-out %/main.o,$(AGENT_OBJS))
STAGING_LIBOBJS := $(filter-out %/main.o,$(STAGING_OBJS))
CONSOLE_LIBOBJS := $(filter-out %/main.o,$(CONSOLE_OBJS))
LAUNCH_LIBOBJS  := $(filter-out %/main.o,$(LAUNCH_OBJS))

$(O)/tests/unit/test_agent_%: $(O)/tests/unit/test_agent_%.o $(AGENT_LIBOBJS) $(HOST_A) $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(AGENT_LIBS))

$(O)/tests/unit/test_staging_%: $(O)/tests/unit/test_staging_%.o $(STAGING_LIBOBJS) $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(STAGING_LIBS))

$(O)/tests/unit/test_console_%: $(O)/tests/unit/test_console_%.o $(CONSOLE_LIBOBJS) $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(CONSOLE_LIBS))

$(O)/tests/unit/test_launch_%: $(O)/tests/unit/test_launch_%.o $(LAUNCH_LIBOBJS) $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(LAUNCH_LIBS))

# the conversion's text edits need no libguestfs: always built and tested
$(O)/tests/unit/test_text_edit: $(O)/tests/unit/test_text_edit.o $(O)/src/launch/text_edit.o $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(LIB_TEST_LIBS))

# the default disk choice of `livemig install`, from its own object
$(O)/tests/unit/test_install_disks: $(O)/tests/unit/test_install_disks.o $(O)/src/cli/install_disks.o $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(LIB_TEST_LIBS))

$(O)/tests/unit/test_host_%: $(O)/tests/unit/test_host_%.o $(HOST_A) $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(HOST_TEST_LIBS))

$(O)/tests/unit/test_%: $(O)/tests/unit/test_%.o $(LIB_A)
	$(LINK)
	$(call ld,-lcmocka $(LIB_TEST_LIBS))

# ---- fuzzing: libFuzzer with clang; a corpus-replay driver with gcc ----
FUZZ_CC := $(shell command -v clang >/dev/null 2>&1 && echo clang)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
# Each harness is built from the parsers under fuzz and what they call, not
# the whole library: FUZZ_DEPS_<name> for tests/fuzz/fuzz_<name>.c. A
# library file is looked up in src/lib and src/host.
fuzz_lib = $(firstword $(wildcard $(addsuffix /$(1),src/lib src/host)))
FUZZ_DEPS_frame := src/lib/frame.c src/lib/codec.c src/lib/util.c
FUZZ_DEPS_agent_config := src/agent/agent_config.c \
	$(foreach f,ini.c util.c netdev_mac.c sysfs_attr.c identity_metadata.c machine_id.c conn.c \
		frame.c codec.c atomic_file.c,$(call fuzz_lib,$(f)))
FUZZ_DEPS_checkpoint := src/agent/checkpoint.c $(call fuzz_lib,atomic_file.c) src/lib/util.c
FUZZ_DEPS_console_json := src/console/reply.c src/console/register_parse.c src/lib/machine_id.c \
	src/lib/util.c src/console/lifecycle_rules.c
FUZZ_DEPS_launch_text := src/launch/text_edit.c src/lib/util.c
FUZZ_DEPS_staging_sync := src/console/staging_sync_check.c src/lib/util.c
# zlib is the frame harness's oracle for inflate
FUZZ_LIBS := $(call pkg_libs,openssl jansson libcurl libisal zlib)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DLIVEMIG_VERSION='"$(VERSION)"' -g -O1 -Isrc/lib -Isrc/host \
	$(PKG_CFLAGS)
$(O)/fuzz/fuzz_agent_config $(O)/fuzz/fuzz_checkpoint: FUZZ_CFLAGS += -Isrc/agent
$(O)/fuzz/fuzz_console_json: FUZZ_CFLAGS += -Isrc/console
$(O)/fuzz/fuzz_launch_text: FUZZ_CFLAGS += -Isrc/launch
.SECONDEXPANSION:
ifeq ($(FUZZ_CC),clang)
FUZZ_ENGINE := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@ (libFuzzer)")
	$(Q)clang $(FUZZ_CFLAGS) $(FUZZ_ENGINE) -o $@ $^ $(FUZZ_LIBS) -pthread
else
$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $$(FUZZ_DEPS_$$*)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@ (gcc corpus replay)")
	$(Q)$(CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-o $@ $^ $(FUZZ_LIBS) -pthread
endif

# harnesses of a program's parser build that parser's file too
$(O)/fuzz/fuzz_staging_sync: FUZZ_CFLAGS += -Isrc/console

fuzz: $(FUZZ_BINS)

# ---- dependencies (Debian package names) ----
deps-build:
ifneq ($(NO_DEPS),1)
	$(Q)ci/deps.sh build
endif

deps-test:
ifneq ($(NO_DEPS),1)
	$(Q)ci/deps.sh test
endif

deps-launch:
ifneq ($(NO_DEPS),1)
	$(Q)ci/deps.sh launch
endif

deps-e2e:
ifneq ($(NO_DEPS),1)
	$(Q)ci/deps.sh e2e
endif

# ---- tests ----
# make check, the README's test command: every tier that runs on the host
# itself, within 30 minutes on two cores. The tiers with QEMU guests and the
# ASan+UBSan rebuild are longer: make check-all is make check, then
# check-kmod and check-sanitized; CI (.ci/run) runs those and the other
# kernels, the launches and the whole migration (docs/testing.md).
# Each tier's time is printed: CI's log is the only record of where a run's
# minutes went on a machine of its own.
CHECK_TIERS := check-lint check-unit check-fuzz check-integration check-console-pg \
	check-packages check-web
# $(call timed,[VAR=VALUE ]TARGET): make TARGET, then its time
timed = s=$$(date +%s); $(MAKE) --no-print-directory NO_DEPS=1 $(1) && \
	echo "==== make $(lastword $(1)): passed in $$(($$(date +%s) - s)) s"
check: deps-test
	$(Q)for t in $(CHECK_TIERS); do $(call timed,$$t) || exit 1; done
	@echo "make check: all tiers passed"

check-all: check
	$(Q)$(call timed,check-kmod)
	$(Q)$(call timed,SANITIZE=1 check-sanitized)
	@echo "make check-all: all tiers passed"

# Static checks: no pipeline of the scripts ends in a reader that stops
# before its writer (a SIGPIPE race under pipefail); the pictures in docs/
# are what their Graphviz sources make; the console calls its database
# engines only through db.h.
check-lint:
	$(Q)tests/lint/pipe_readers.py
	$(Q)tests/lint/diagrams.sh
	$(Q)tests/lint/db_engines.sh

# The pictures in docs/diagrams, from their Graphviz sources.
diagrams:
	$(Q)tests/lint/diagrams.sh --write

check-unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

check-fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/replay.sh $(O)/fuzz

check-integration: $(PROGRAMS)
	$(Q)tests/integration/run.sh $(O)

# The console's tests that touch its database, on PostgreSQL 15 instead of
# SQLite: a scratch cluster (tests/with_postgresql.sh) for the unit tests
# that open a database and the integration tests of the console, of the
# agent's heartbeats and cutover through it, of staging's syncs and
# launch jobs with it, and of placement over several staging servers; each test makes its own database on it
# (docs/console-database.md).
CONSOLE_DB_UNIT := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,\
	$(shell grep -l console_test_db.h tests/unit/test_console_*.c))
check-console-pg: $(CONSOLE_DB_UNIT) $(PROGRAMS)
	$(Q)tests/with_postgresql.sh sh -c 'tests/run-unit.sh $(CONSOLE_DB_UNIT) && \
		ONLY="$${ONLY:-^t_(console_|agent_console$$|agent_lifecycle$$|staging_console$$|staging_launch$$|staging_fleet$$)}" tests/integration/run.sh $(O)'

# The Ceph RBD image store alone: t_staging_rbd.sh and t_staging_rbd_full.sh,
# each under a single-node Ceph cluster of its own (tests/with_ceph.sh;
# ci/deps.sh test installs Ceph). The integration tier runs them too.
check-rbd: $(PROGRAMS)
	$(Q)[ "$(RBD)" = 1 ] || { echo "check-rbd: livemig-staging is built without RBD (install librbd-dev, or make RBD=1)" >&2; exit 1; }
	$(Q)ONLY='^t_staging_rbd(_full)?$$' tests/integration/run.sh $(O)

# The console's web page in Debian's chromium, driven by playwright-core
# (npm, pinned in tests/web/package-lock.json), against real programs.
check-web: $(PROGRAMS)
	$(Q)tests/web/run.sh $(O)

# The unit, integration and web tiers RUNS times (default 5) while stress-ng
# keeps every core busy: the proof that no test depends on the machine's
# speed (docs/testing.md). Not part of make check.
RUNS ?= 5
check-stress: deps-test $(UNIT_BINS) $(PROGRAMS)
	$(Q)tests/stress.sh $(O) $(RUNS)

# The change-tracking module: built by DKMS against Debian's kernel headers,
# then exercised in a QEMU guest booting Debian's kernel (this host's kernel
# cannot load modules).
# Two guests at once (each is one TCG vCPU): the module's own tests, and the
# real livemigd and livemig-staging in the guest against the module: the
# oracle (check-kmod runs KMOD_ORACLE_SEEDS, check-kmod-full all ten) and
# the reload test.
check-kmod: $(PROGRAMS)
	$(Q)tests/kmod/static_checks.sh
	$(Q)tests/kmod/dkms_build.sh
	$(Q)$(MAKE) --no-print-directory -j2 --output-sync=target check-kmod-module check-kmod-agent

# The two jobs are balanced by time (about 12 min each here): the module's
# own tests then the oracle, and the reload test then the recovery points.
KMOD_ORACLE_SEEDS ?= 1,2
check-kmod-module: $(PROGRAMS)
	$(Q)tests/kmod/run.sh guest_basic.sh guest_pieces.sh guest_inflight.sh guest_devices.sh guest_freeze.sh
	$(Q)OUT=$(abspath $(O))/kmod-oracle \
	GUEST_ENV="LIVEMIG_BUILD=$(O) ORACLE_SEEDS=$(KMOD_ORACLE_SEEDS)" \
	tests/kmod/run.sh guest_oracle.sh

check-kmod-agent: $(PROGRAMS)
	$(Q)OUT=$(abspath $(O))/kmod-reload GUEST_ENV="LIVEMIG_BUILD=$(O)" \
	tests/kmod/run.sh guest_reload_agent.sh guest_points.sh guest_cutover.sh

# all ten oracle seeds and 100 module reloads (check-kmod does 20: 2.7 s a
# reload under TCG)
check-kmod-full: $(PROGRAMS)
	$(Q)RELOADS=100 $(MAKE) --no-print-directory KMOD_ORACLE_SEEDS=1,2,3,4,5,6,7,8,9,10 check-kmod

# The module on the other kernels Debian offers (bullseye's 5.10, trixie's
# 6.12, sid's newest): fetched privately, built by DKMS in a debootstrap
# chroot of their release, tested in QEMU. See docs/kernels.md.
check-kernels: deps-test $(PROGRAMS)
	$(Q)LIVEMIG_BUILD=$(O) tests/kmod/kernels.sh

# Benchmark, not a test: tracking overhead and bitmap bytes per TiB.
bench-kmod: deps-test
	$(Q)tests/bench/kmod-overhead.sh

# Benchmark, not a test: what recovery points cost staging (XFS reflink and
# ext4 copy-on-write, loop-mounted). See docs/recovery-points.md.
bench-points: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/bench/points.sh $(O)

# Benchmark, not a test: the recovery point objective with the scan tracker:
# change-copy lag under steady random writes on 1, 4 and 16 GiB disks, write
# amplification, rescan after tracking loss. See docs/performance.md.
bench-lag: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/bench/lag.sh $(O)

# Benchmark, not a test: the recovery point objective with the kernel
# tracker, in one QEMU boot (TCG): change-copy lag on 1, 4 and 16 GiB disks,
# then with 1, 4 and 16 disks of one machine, beside the backlog's transfer
# time at the boot's link rate. See docs/performance.md.
bench-kmod-lag: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)LIVEMIG_BUILD=$(O) tests/bench/kmod-lag.sh

# Benchmark, not a test: livemig's initial mirror and a change round against
# tool pipelines over a shaped link (tests/bench/link_shaper.c: 100 Mbit/s
# with 50 ms round trip, 1 Gbit/s with 10 ms). See docs/performance.md.
bench-slowlink: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/bench/slowlink.sh $(O)

# Benchmark, not a test: heartbeats a second at the console (SQLite,
# PostgreSQL, two instances on one PostgreSQL) and staging's throughput with
# 1, 4 and 8 agents at once (docs/scaling.md). Needs root (loop devices).
bench-scale: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/bench/scale.sh $(O)

# Benchmark and probe, not a test: what EXT4_IOC_MOVE_EXT does and costs, as
# a replacement for copy-out on ext4 (it cannot be one; docs/recovery-points.md).
bench-ext4-swap: deps-test
	$(Q)tests/bench/ext4_swap.sh $(O)

# The packages (debian/, rpm/): built, linted, installed into a Debian 12
# chroot, upgraded and purged; the RPMs' scriptlets; the Ansible role.
check-packages: $(PROGRAMS)
	$(Q)tests/packages/run.sh $(O)

deb:
	$(Q)tests/packages/build_deb.sh $(abspath $(O))/packages/deb

# docs/quickstart.md followed literally in two chroots (also part of
# check-packages): the .debs, then tests/packages/t_quickstart.sh.
check-quickstart: $(PROGRAMS)
	$(Q)tests/packages/build_deb.sh $(abspath $(O))/packages/deb
	$(Q)tests/packages/t_quickstart.sh $(O) $(abspath $(O))/packages/deb

rpm:
	$(Q)tests/packages/build_rpm.sh $(abspath $(O))/packages/rpm

# Conversion and launch (docs/launch.md): Debian 12 guests made by
# debootstrap (cached), converted by livemig-launch and booted by a private
# libvirtd under TCG: BIOS, UEFI, and an initramfs without virtio; and a
# launch through staging's launch and destroy jobs.
# A recursive make, so that livemig-launch is built once the -dev packages
# deps-launch installs are there.
# LAUNCH_TESTS: some of run.sh's tests instead of its default (all).
check-launch: deps-launch
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 $(O)/livemig-launch
	$(Q)tests/launch/run.sh $(O) $(LAUNCH_TESTS)

# A test launch from a point on Ceph RBD (docs/launch.md): a scratch
# cluster (tests/with_ceph.sh), clones of the point's snapshots converted
# in place and booted by libvirt from RBD, by hand and by staging's jobs
# (the agent, staging and console too). livemig-launch with RBD=1.
check-launch-rbd: deps-launch
	$(Q)[ "$(RBD)" = 1 ] || { echo "check-launch-rbd: livemig-launch is built without RBD (install librbd-dev, or make RBD=1)" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 $(PROGRAMS) $(O)/livemig-launch
	$(Q)tests/launch/run.sh $(O) rbd

# A whole migration (docs/testing.md, check-e2e): a Debian 12 server with
# PostgreSQL under QEMU TCG installs the agent from the .debs, replicates,
# is upgraded to the next version's .debs and rebooted while replicating,
# is test-launched, cut over and finalized through the console, launched by
# staging with libvirt. Recursive make for the same reason as check-launch.
# Its .debs apart from check-packages' (.ci/run runs both at once).
# E2E_NICE: the test's priority (default 10; .ci/run gives 0).
E2E_DEBS = $(abspath $(O))/e2e-packages
check-e2e: deps-e2e
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 $(PROGRAMS) $(O)/livemig-launch
	$(Q)tests/packages/build_deb.sh $(E2E_DEBS)/deb >/dev/null
	$(Q)tests/packages/build_deb.sh $(E2E_DEBS)/deb-next 0.1.0+next1 $(E2E_DEBS)/deb >/dev/null
	$(Q)E2E_NICE=$(E2E_NICE) tests/e2e/run.sh $(O) $(E2E_DEBS)/deb $(E2E_DEBS)/deb-next

# Under ASan+UBSan: the unit tests and the integration suite's quick tier.
check-sanitized: $(UNIT_BINS) $(PROGRAMS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)
	$(Q)LIVEMIG_SANITIZED=1 tests/integration/run.sh $(O)
	$(Q)tests/web/run.sh $(O)

demo: deps-build
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/demo/demo.sh $(O)

bench: deps-test
	$(Q)$(MAKE) --no-print-directory NO_DEPS=1 all
	$(Q)tests/bench/mirror.sh $(O)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(O)/livemigd $(O)/livemig-staging $(O)/livemig-console $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(O)/livemig $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
ifeq ($(HAVE_LAUNCH),1)
	install -m 0755 $(O)/livemig-launch $(DESTDIR)$(SBINDIR)/
	install -m 0644 docs/man/livemig-launch.8 $(DESTDIR)$(MANDIR)/man8/
endif

# $(O) only, and never the source tree or a directory holding it
clean:
	$(Q)o='$(abspath $(O))'; case '$(CURDIR)/' in "$${o%/}"/*) \
		echo "make clean: O=$(O) holds the source tree; not removing it" >&2; exit 1 ;; \
	esac
	rm -rf '$(O)'

# the compiler's header dependencies (not those of the package builds'
# copies of the tree under $(O)/packages)
-include $(wildcard $(O)/src/*/*.d $(O)/tests/unit/*.d)
