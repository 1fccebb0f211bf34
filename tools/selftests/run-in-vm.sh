#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh: run the ckpt.ko selftests, as root, in the test VM (or on
# a machine where losing a cgroup or two does not matter).
#
#   tools/selftests/run-in-vm.sh [PATTERN...]
#
# PATTERNs select groups or tests (see ckpt-selftests -h); without any,
# everything runs, the module-life tests last.  Steps: mount cgroup v2 and
# a v1 freezer hierarchy if missing, insmod ckpt.ko, run ckpt-selftests
# with TAP output, rmmod, and print "N passed, N failed" as the last line.
# Exit status 0 only if every selected test ran and passed: a failure, a
# crash, a test that did not run, a skipped test (unless CKPT_ALLOW_SKIP=1)
# or a failed rmmod make it 1.
#
# Environment (all optional):
#   CKPT_KO          the module (default build/$(uname -r)/kmod/ckpt.ko)
#   CKPT_SELFTESTS   the test binary (default build/tools/ckpt-selftests)
#   CKPT_CGROUP2     cgroup v2 mount (default /sys/fs/cgroup)
#   CKPT_FREEZER     v1 freezer mount (default /run/ckpt-freezer)
#   CKPT_ALLOW_SKIP  1: a skipped test is not a failure
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
bin=${CKPT_SELFTESTS:-$top/build/tools/ckpt-selftests}
t0=$(date +%s)

say() { echo "# run-in-vm: $*"; }
die() {
	say "$*"
	echo "0 passed, 1 failed"
	exit 1
}

[ -x "$bin" ] || die "$bin not found: run 'make tools'"
# cgroup mounts, pid_max (room for the 10,000-task test), a fresh ckpt.ko
. "$top/tools/vm-env.sh"

# ---- the tests -----------------------------------------------------------------
out=${VMTEST_OUT:-}
if [ -n "$out" ] && [ -d "$out" ] && [ -w "$out" ]; then
	log=$out/selftests.tap
else
	log=$(mktemp /tmp/ckpt-selftests.XXXXXX)
fi
rcfile=$(mktemp /tmp/ckpt-selftests-rc.XXXXXX)
expected=$("$bin" -l "$@" | wc -l)
say "$kver: $expected tests, module $CKPT_KO"

export CMOCKA_MESSAGE_OUTPUT=TAP
{ "$bin" "$@"; echo $? >"$rcfile"; } 2>&1 | tee "$log"
rc=$(cat "$rcfile")
rm -f "$rcfile"

# cmocka's TAP: "ok N - test", "not ok N - test", "not ok N # SKIP test"
count() { grep -E -c "$1" "$log"; }
skipped=$(count '^(not )?ok [0-9]+ # SKIP')
passed=$(($(count '^ok [0-9]+') - $(count '^ok [0-9]+ # SKIP')))
failed=$(($(count '^not ok [0-9]+') - $(count '^not ok [0-9]+ # SKIP')))
ran=$((passed + failed + skipped))
status=0

if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	say "ckpt-selftests exited with status $rc"
	failed=$((failed + 1))
fi
if [ "$ran" -lt "$expected" ]; then
	say "$((expected - ran)) tests did not run (crash or timeout?)"
	failed=$((failed + expected - ran))
fi
if [ "$skipped" -gt 0 ]; then
	grep -E '^(not )?ok .*# SKIP' "$log" | sed 's/^/# run-in-vm: skipped: /'
	if [ "${CKPT_ALLOW_SKIP:-0}" = 1 ]; then
		say "$skipped skipped (allowed by CKPT_ALLOW_SKIP=1)"
	else
		say "$skipped skipped unexpectedly: counted as failed"
		failed=$((failed + skipped))
	fi
fi

# ---- unload --------------------------------------------------------------------
if [ -e /sys/module/ckpt ]; then
	if ! rmmod ckpt; then
		say "rmmod ckpt failed"
		failed=$((failed + 1))
	fi
fi

say "$kver: done in $(($(date +%s) - t0)) s; TAP log in $log"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
