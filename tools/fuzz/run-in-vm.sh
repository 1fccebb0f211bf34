#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh: run ckpt-fuzz as root in the test VM with a fresh ckpt.ko.
#
#   tools/fuzz/run-in-vm.sh [--long] [ckpt-fuzz options...]
#
# Short (CI) mode: 200,000 calls, 4 threads, 2 session children.  --long:
# ${CKPT_FUZZ_CALLS:-1000000} calls, then the race tests in long mode too.
# CKPT_FUZZ_SEED replays a seed.  The fuzzer checks that the module unloads
# once every fd is closed (--unload).  Last line: "ckpt-fuzz: N passed, N failed".
set -u
name=ckpt-fuzz
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
long=0
if [ "${1:-}" = --long ]; then long=1; shift; fi
bin=${CKPT_FUZZ:-$top/build/tools/ckpt-fuzz}
[ -x "$bin" ] || { echo "$name: $bin missing"; echo "$name: 0 passed, 1 failed"; exit 1; }
. "$top/tools/vm-env.sh"

calls=${CKPT_FUZZ_CALLS:-200000}
[ $long = 1 ] && calls=${CKPT_FUZZ_CALLS:-1000000}
args=(--calls "$calls" --threads "${CKPT_FUZZ_THREADS:-4}" --procs "${CKPT_FUZZ_PROCS:-2}" --unload)
[ -n "${CKPT_FUZZ_SEED:-}" ] && args+=(--seed "$CKPT_FUZZ_SEED")
t0=$(date +%s)
log=$(mktemp /tmp/ckpt-fuzz.XXXXXX)
"$bin" "${args[@]}" "$@" | tee "$log"
rc=${PIPESTATUS[0]}
# A crash leaves no summary: say so in the form check.sh counts.
grep -q '^ckpt-fuzz: [0-9]* passed, [0-9]* failed$' "$log" ||
	{ echo "ckpt-fuzz: 0 passed, 1 failed (no summary: exit $rc)"; rc=1; }
echo "# $name: $kver: done in $(($(date +%s) - t0)) s, exit $rc"
if [ -e /sys/module/ckpt ]; then
	echo "# $name: ckpt still loaded after the run"
	rmmod ckpt || echo "$name-unload: 0 passed, 1 failed"
	rc=1
fi
status=$rc
if [ $long = 1 ]; then
	"$top/tools/races/run-in-vm.sh" --long || status=1
fi
exit $status
