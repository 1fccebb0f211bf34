# ckpt top-level build.  `make help` lists the targets.
SHELL := /bin/bash
TOP := $(CURDIR)
BUILD ?= $(TOP)/build

# Target kernels: every installed 6.1.x / 6.12.x with headers, unless given.
KVERS ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | \
	   sed -n 's|/lib/modules/\(6\.1\.[^/]*\)/build|\1|p; s|/lib/modules/\(6\.12\.[^/]*\)/build|\1|p' | sort -V)
CKPT_WERROR ?= 1
CC ?= gcc
CFLAGS_TOOLS ?= -O2 -g -Wall -Wextra -Werror -I$(TOP)/uapi -D_GNU_SOURCE

KMOD_SRCS := $(wildcard $(TOP)/kmod/*.c $(TOP)/kmod/*.h $(TOP)/kmod/*.S) $(TOP)/kmod/Kbuild
TOOLS := $(BUILD)/tools/ckpt-scan $(BUILD)/tools/scan-bench
SELFTESTS := $(BUILD)/tools/ckpt-selftests
HOSTTESTS := $(BUILD)/tools/host-uapi $(BUILD)/tools/host-util

.PHONY: all modules tools user deps demo check check-host check-vm bench clean help

all: modules tools user

help:
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make            build ckpt.ko for: $(KVERS); the tools; ckpt-user (build/user)"
	@echo "make demo       boot a VM, load ckpt.ko, freeze a demo tree, scan it"
	@echo "make check      all tests: build, host tests, VM tests on every kernel and on the debug kernel, packages"
	@echo "make bench      ckpt against CRIU in the VM (6.12; CKPT_KVERS; BENCH_QUICK=1) (not a test)"
	@echo "make fuzz       long fuzz and race runs in the VM (make check runs short ones)"
	@echo "make deb        Debian packages ckpt-dkms and ckpt-tools in build/deb"
	@echo "make install    ckpt-user, man page, udev rule, header, module source (PREFIX, DESTDIR)"
	@echo "make check-packages   build, install, test in the VM and purge the packages (root)"
	@echo "make check-debug      the debug-kernel lane alone (KASAN+lockdep+kmemleak; make check runs it)"

deps:
	$(TOP)/tools/install-deps

# The packages to build the debug kernel (make check-debug).
deps-debug:
	$(TOP)/tools/install-deps debug

# One build directory per kernel: symlinks to the sources, objects beside them.
modules:
	@test -n "$(KVERS)" || { echo "no 6.1/6.12 kernel headers installed: run 'make deps'" >&2; exit 1; }
	@set -e; for k in $(KVERS); do \
		d=$(BUILD)/$$k; mkdir -p $$d/kmod; \
		ln -sfn $(TOP)/uapi $$d/uapi; \
		for f in $(KMOD_SRCS); do ln -sf $$f $$d/kmod/; done; \
		echo "  KMOD    $$k"; \
		$(MAKE) -s -C /lib/modules/$$k/build M=$$d/kmod CKPT_WERROR=$(CKPT_WERROR) modules; \
	done

$(BUILD)/tools/%: tools/%.c uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -o $@ $< 

$(BUILD)/tools/ckpt-selftests: $(wildcard tools/selftests/*.c tools/selftests/*.h) uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -o $@ $(filter %.c,$^) -lcmocka -lpthread -lxxhash

$(BUILD)/tools/host-%: tools/hosttests/test_%.c uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -o $@ $< -lcmocka

tools: $(TOOLS) $(SELFTESTS) $(HOSTTESTS)

# End-to-end test workloads (tools/e2e/workloads/wl-NAME.c; tools/e2e/README).
E2E_WORKLOADS := $(patsubst tools/e2e/workloads/%.c,$(BUILD)/tools/e2e/%,$(wildcard tools/e2e/workloads/wl-*.c))

$(BUILD)/tools/e2e/wl-%: tools/e2e/workloads/wl-%.c tools/e2e/workloads/wl-common.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -o $@ $< -lpthread

tools: $(E2E_WORKLOADS)

# The benchmark's programs (tools/bench/*.c): built by make tools (and so by
# make check), run only by make bench.
BENCH_TOOLS := $(patsubst tools/bench/%.c,$(BUILD)/tools/bench/%,$(wildcard tools/bench/*.c))

$(BUILD)/tools/bench/%: tools/bench/%.c uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -o $@ $< -lpthread

tools: $(BENCH_TOOLS)

# ckpt-user, the C++ driver (user/, CMake).
CMAKE_BUILD_TYPE ?= RelWithDebInfo
user:
	cmake -S $(TOP)/user -B $(BUILD)/user -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) -DCKPT_WERROR=$(CKPT_WERROR) > /dev/null
	cmake --build $(BUILD)/user -j$(shell nproc)

demo: deps all
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-demo -- $(TOP)/tools/demo.sh

# Everything, with one summary line at the end ("check: N passed, N failed"):
# host tests, the distro kernels' VM lane, the debug-kernel lane (its kernel
# is built once and cached: vmtest/debug/README), the packages.
check: deps deps-debug all
	$(TOP)/tools/check.sh

check-host:
	$(TOP)/tools/check-host.sh

check-vm:
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-check -- $(TOP)/tools/vm-check.sh

# The benchmark suite (tools/bench/, Documentation/performance.md): one VM
# per kernel in turn, ckpt and CRIU in alternation; not part of make check.
bench: deps-bench all
	$(TOP)/tools/bench/run.sh

# What make bench needs beyond make check: gnuplot, redis, perf.
deps-bench:
	$(TOP)/tools/install-deps bench

clean:
	rm -rf $(BUILD)

# ---- installation and packages ---------------------------------------------
# `make install` for any distribution; `make deb` for Debian.  VERSION must
# agree with dkms.conf, debian/changelog and user/CMakeLists.txt
# (tools/check-packages.sh checks it).
VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
SRCDIR ?= $(PREFIX)/src/ckpt-$(VERSION)
# udev reads only /lib, /usr/lib, /etc and /run, never /usr/local: the rule
# goes where Debian's `pkg-config --variable=udevdir udev` says, whatever
# PREFIX is.
UDEVDIR ?= /lib/udev
INSTALL ?= install

# The module source, laid out as in the tree (kmod/ beside uapi/, which
# kmod/Kbuild finds as $(src)/../uapi), with dkms.conf at its top: plain
# kbuild builds it with M=$(SRCDIR)/kmod, DKMS with `dkms add $(SRCDIR)`.
KMOD_DIST := $(notdir $(KMOD_SRCS)) Makefile

.PHONY: install install-tools install-src uninstall deb check-packages

install: user install-tools install-src

install-tools:
	$(INSTALL) -D -m 0755 $(BUILD)/user/src/ckpt-user $(DESTDIR)$(BINDIR)/ckpt-user
	$(INSTALL) -D -m 0644 Documentation/ckpt-user.1 $(DESTDIR)$(MANDIR)/man1/ckpt-user.1
	$(INSTALL) -D -m 0644 packaging/60-ckpt.rules $(DESTDIR)$(UDEVDIR)/rules.d/60-ckpt.rules
	$(INSTALL) -D -m 0644 uapi/linux/ckpt.h $(DESTDIR)$(INCLUDEDIR)/linux/ckpt.h

install-src:
	$(INSTALL) -d $(DESTDIR)$(SRCDIR)/kmod $(DESTDIR)$(SRCDIR)/uapi/linux
	$(INSTALL) -m 0644 $(addprefix kmod/,$(KMOD_DIST)) $(DESTDIR)$(SRCDIR)/kmod/
	$(INSTALL) -m 0644 uapi/linux/ckpt.h $(DESTDIR)$(SRCDIR)/uapi/linux/
	$(INSTALL) -m 0644 dkms.conf $(DESTDIR)$(SRCDIR)/dkms.conf

# Removes the files install put there; $(SRCDIR) (ckpt-VERSION) is ours as a
# whole, objects from a build in it included.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ckpt-user $(DESTDIR)$(MANDIR)/man1/ckpt-user.1 \
		$(DESTDIR)$(UDEVDIR)/rules.d/60-ckpt.rules $(DESTDIR)$(INCLUDEDIR)/linux/ckpt.h
	rm -rf $(DESTDIR)$(SRCDIR)

# Both .debs (and the .buildinfo/.changes) in $(BUILD)/deb/.  The build runs
# in a copy of the tree (without build/ and .git), so the checkout is left
# untouched and dpkg-buildpackage's "../" is $(BUILD)/deb.
DEB_OUT := $(BUILD)/deb
deb:
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/ckpt-$(VERSION)
	tar -C $(TOP) --exclude=./build --exclude=./.git -cf - . | tar -C $(DEB_OUT)/ckpt-$(VERSION) -xf -
	cd $(DEB_OUT)/ckpt-$(VERSION) && DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_OUT)/ckpt-$(VERSION)
	@ls $(DEB_OUT)/*.deb

# Needs root: installs, tests (in a VM per kernel) and purges the packages.
check-packages: tools
	$(TOP)/tools/check-packages.sh

# ---- ioctl fuzzer and race tests (issue 6, sections 3 and 5) ----------------
FUZZ_TOOLS := $(BUILD)/tools/ckpt-fuzz $(BUILD)/tools/ckpt-races
FUZZ_CALLS ?= 1000000

FUZZ_SRCS := $(addprefix tools/fuzz/,ckpt-fuzz.c fz-gen.c fz-pages.c fz-ioctl.c fz-bg.c)
$(BUILD)/tools/ckpt-fuzz: $(FUZZ_SRCS) tools/fuzz/fz-internal.h tools/fuzz/fz-common.h \
		uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -Itools/fuzz -o $@ $(FUZZ_SRCS) -lpthread -lxxhash

$(BUILD)/tools/ckpt-races: tools/races/ckpt-races.c tools/fuzz/fz-common.h uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -Itools/fuzz -o $@ $< -lpthread

tools: $(FUZZ_TOOLS)

.PHONY: fuzz
# Long mode, for humans: >= 1,000,000 fuzzer calls and 2000 iterations of
# each race test on every target kernel (about 10-15 min per kernel in TCG).
fuzz: modules $(FUZZ_TOOLS)
	CKPT_FUZZ_CALLS=$(FUZZ_CALLS) CKPT_RACE_ITERS=2000 \
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-fuzz --timeout 86400 -- \
		$(TOP)/tools/fuzz/run-in-vm.sh --long

# ---- the debug-kernel lane (issue 6) -----------------------------------------
# A small KASAN + lockdep + kmemleak + fault-injection kernel built from
# Debian's linux-source-$(DEBUG_SERIES) with vmtest/debug/debug.config, cached
# in $${CKPT_DEBUG_CACHE:-/var/cache/ckpt-debug-kernel} (about 6 min cold).
# check-debug builds ckpt.ko against it (build/KRELEASE/kmod, CKPT_WERROR)
# and runs the whole selftest suite on it, then a kmemleak scan.
DEBUG_SERIES ?= 6.12
.PHONY: debug-kernel check-debug deps-debug deps-bench

debug-kernel:
	$(TOP)/tools/install-deps debug
	$(TOP)/vmtest/debug/build-kernel $(DEBUG_SERIES)

check-debug: debug-kernel $(SELFTESTS) $(FUZZ_TOOLS)
	BUILD=$(BUILD) CKPT_WERROR=$(CKPT_WERROR) $(TOP)/vmtest/debug/check-debug $(DEBUG_SERIES)
