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
	@echo "make check      all tests: build, host tests, VM selftests on every kernel"
	@echo "make bench      the scan benchmark in the VM (not a test)"

deps:
	$(TOP)/tools/install-deps

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
	$(CC) $(CFLAGS_TOOLS) -Itools -o $@ $(filter %.c,$^) -lcmocka -lpthread

$(BUILD)/tools/host-%: tools/hosttests/test_%.c uapi/linux/ckpt.h tools/ckpt-util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_TOOLS) -Itools -o $@ $< -lcmocka

tools: $(TOOLS) $(SELFTESTS) $(HOSTTESTS)

# ckpt-user, the C++ driver (user/, CMake).
CMAKE_BUILD_TYPE ?= RelWithDebInfo
user:
	cmake -S $(TOP)/user -B $(BUILD)/user -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) -DCKPT_WERROR=$(CKPT_WERROR) > /dev/null
	cmake --build $(BUILD)/user -j$(shell nproc)

demo: deps all
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-demo -- $(TOP)/tools/demo.sh

# Everything, with one summary line at the end ("check: N passed, N failed").
check: deps all
	$(TOP)/tools/check.sh

check-host:
	$(TOP)/tools/check-host.sh

check-vm:
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-check -- $(TOP)/tools/vm-check.sh

bench: all
	$(TOP)/vmtest/run-all --out-base $(BUILD)/vm-bench -- $(TOP)/tools/bench.sh

clean:
	rm -rf $(BUILD)
