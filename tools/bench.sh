#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`, inside the VM (tools/bench/run.sh boots it): the benchmark
# suite, ckpt against CRIU side by side (tools/bench/bench.py).  Prints
# numbers and writes $VMTEST_OUT/bench.json; asserts nothing on time.
# BENCH_QUICK=1: one repetition, small sizes.  BENCH_GROUPS, BENCH_REPS,
# BENCH_CRIU_TREE_MAX, BENCH_DUMP_TREE_MAX, BENCH_BIG_TREE_REPS: bench.py.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
name=bench
. "$top/tools/vm-env.sh"	# cgroup mounts, pid_max, a fresh ckpt.ko
export BENCH_WORK=${BENCH_WORK:-/run/bench-work}
mkdir -p "$BENCH_WORK"
# the images of both tools go to tmpfs (the guest's /tmp is only half the RAM)
mountpoint -q "$BENCH_WORK" || mount -t tmpfs -o size=90% bench-work "$BENCH_WORK"
# 10,000 tasks: enough pids and threads
echo 4194304 >/proc/sys/kernel/threads-max 2>/dev/null || true
ulimit -u unlimited
ulimit -n 65536
echo "== $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB (QEMU TCG: compare ratios, not absolute times)"
rc=0
/usr/bin/python3 "$top/tools/bench/bench.py" --out "${VMTEST_OUT:-/tmp}/bench.json" "$@" || rc=$?
rmmod ckpt || true
exit $rc
