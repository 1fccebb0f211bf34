#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where does ckpt-user dump spend its time on the memory rows?  In the VM:
#
#   vmtest/run --kver KVER --out DIR --mem 6144 -- tools/bench/profile.sh [MIB]
#
# For one process with MIB (default 256) MiB of dirty anonymous memory, and
# for the sparse case (1 GiB mapped, 10% touched), it runs ckpt-user dump
# (images to tmpfs, thaw after) four ways and keeps the outputs in
# $VMTEST_OUT/profile/: --stats (the breakdown); strace -c -f (syscall
# counts and time); strace -f -ttt -T on the memory syscalls (sizes and
# durations of each); perf record -a -g (cpu-clock: TCG has no PMU) with a
# perf report by symbol; then one CRIU dump with its stats for reference.
# CKPT_USER selects the binary; CKPT_USER_COMPARE lists others to run
# with --stats only; PROFILE_CASES: a subset of "mem sparse maps".  A diagnosis aid, not a test.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
name=profile
. "$top/tools/vm-env.sh"
mib=${1:-256}
CKPT_USER=${CKPT_USER:-$top/build/user/src/ckpt-user}
out=${VMTEST_OUT:-/tmp}/profile
work=/run/bench-work
mkdir -p "$out" "$work"
mountpoint -q "$work" || mount -t tmpfs -o size=90% bench-work "$work"
wl=$top/build/tools/bench/bench-wl

prof_case() {	# NAME WL-ARGS...
	local n=$1 cg=$CKPT_CGROUP2/bench-prof pid
	shift
	rmdir "$cg" 2>/dev/null; mkdir "$cg"
	rm -f "$work/ready"
	setsid sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$wl" "$work/ready" "$@" \
		</dev/null >"$work/wl.log" 2>&1 &
	pid=$!
	for _ in $(seq 1200); do [ -e "$work/ready" ] && break; sleep 0.1; done
	d() { rm -f "$work/img"; "$CKPT_USER" dump --cgroup "$cg" --pid "$pid" -o "$work/img" --no-progress "$@"; }
	echo "== $n: $* (pid $pid)"
	# CKPT_USER_COMPARE: other ckpt-user binaries, --stats of each (2 runs)
	for b in ${CKPT_USER_COMPARE:-}; do
		for i in 1 2; do
			rm -f "$work/img"
			echo "-- $b (run $i)"
			/usr/bin/time -f "wall %e s" "$b" dump --cgroup "$cg" --pid "$pid" -o "$work/img" --no-progress --stats 2>&1
		done
	done 2>&1 | tee "$out/$n-compare.txt"
	d --stats 2>&1 | tee "$out/$n-stats.txt"	# warm-up
	rm -f "$work/img"
	/usr/bin/time -f "wall %e s" "$CKPT_USER" dump --cgroup "$cg" --pid "$pid" -o "$work/img" \
		--no-progress --stats 2>&1 | tee "$out/$n-stats.txt"
	strace -f -c -o "$out/$n-strace-c.txt" "$CKPT_USER" dump --cgroup "$cg" --pid "$pid" \
		-o "$work/img2" --no-progress --stats 2>"$out/$n-strace-c-stats.txt"
	rm -f "$work/img2"
	head -30 "$out/$n-strace-c.txt"
	strace -f -ttt -T -e trace=process_vm_readv,preadv,pread64,pwrite64,pwritev,write,writev,mmap,munmap,madvise,ioctl,fsync,fdatasync,openat \
		-o "$out/$n-strace-T.txt" "$CKPT_USER" dump --cgroup "$cg" --pid "$pid" \
		-o "$work/img2" --no-progress 2>&1
	rm -f "$work/img2"
	rm -f "$work/img"
	perf record -a -g -F 499 -e cpu-clock -o "$work/perf.data" -- \
		"$CKPT_USER" dump --cgroup "$cg" --pid "$pid" -o "$work/img" --no-progress --stats \
		>"$out/$n-perf-record.txt" 2>&1
	perf report -i "$work/perf.data" --stdio --no-children --sort comm,dso,sym 2>/dev/null |
		grep -v '^$' | head -150 >"$out/$n-perf-report.txt"
	perf report -i "$work/perf.data" --stdio --no-children --sort comm,sym -g none --percent-limit 0.5 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -60 | tee "$out/$n-perf-flat.txt"
	perf report -i "$work/perf.data" --stdio --children --sort sym -g none --percent-limit 2 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -60 >"$out/$n-perf-children.txt"
	# the reference: one CRIU dump of the same workload, its own stats
	rm -rf "$work/criu"; mkdir -p "$work/criu"
	/usr/bin/time -f "criu wall %e s" criu dump -t "$pid" -D "$work/criu" --leave-running -o dump.log &&
		crit show "$work/criu/stats-dump" >"$out/$n-criu-stats.txt" 2>&1
	cat "$out/$n-criu-stats.txt"
	rm -rf "$work/criu"
	echo 1 >"$cg/cgroup.kill"; wait "$pid" 2>/dev/null
	for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	rm -f "$work/img" "$work/perf.data"
}

for c in ${PROFILE_CASES:-mem sparse maps}; do
	case $c in
	mem)	prof_case "mem-$mib" mem "$mib" ;;
	sparse)	prof_case sparse-1024-10 sparse 1024 10 ;;
	maps)	prof_case maps-1000 maps 1000 ;;
	esac
done
rmmod ckpt
