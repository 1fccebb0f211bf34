#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh: run ckpt-races as root in the test VM with a fresh ckpt.ko.
#
#   tools/races/run-in-vm.sh [--long] [ckpt-races options...]
#
# Short (CI) mode: ${CKPT_RACE_ITERS:-200} iterations per test; --long: 2000
# unless CKPT_RACE_ITERS says otherwise.  CKPT_RACE_SEED replays a seed.
# Afterwards the module must unload.  Last line: "ckpt-races: N passed, N failed".
set -u
name=ckpt-races
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
long=0
if [ "${1:-}" = --long ]; then long=1; shift; fi
bin=${CKPT_RACES:-$top/build/tools/ckpt-races}
[ -x "$bin" ] || { echo "$name: $bin missing"; echo "$name: 0 passed, 1 failed"; exit 1; }
. "$top/tools/vm-env.sh"

iters=${CKPT_RACE_ITERS:-200}
[ $long = 1 ] && iters=${CKPT_RACE_ITERS:-2000}
args=(--iters "$iters")
[ -n "${CKPT_RACE_SEED:-}" ] && args+=(--seed "$CKPT_RACE_SEED")
t0=$(date +%s)
log=$(mktemp /tmp/ckpt-races.XXXXXX)
"$bin" "${args[@]}" "$@" | tee "$log"
rc=${PIPESTATUS[0]}
grep -q '^ckpt-races: [0-9]* passed, [0-9]* failed$' "$log" ||
	{ echo "ckpt-races: 0 passed, 1 failed (no summary: exit $rc)"; rc=1; }
echo "# $name: $kver: done in $(($(date +%s) - t0)) s, exit $rc"
if ! rmmod ckpt; then
	echo "# $name: rmmod ckpt failed after the races"
	# Count it in the summary line check.sh reads.
	sed -n 's/^ckpt-races: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" |
		{ read -r p f; echo "$name: ${p:-0} passed, $((${f:-0} + 1)) failed (rmmod failed)"; }
	rc=1
fi
exit $rc
