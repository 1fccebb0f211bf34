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
kver=$(uname -r)
CKPT_KO=${CKPT_KO:-$top/build/$kver/kmod/ckpt.ko}
CKPT_CGROUP2=${CKPT_CGROUP2:-/sys/fs/cgroup}
CKPT_FREEZER=${CKPT_FREEZER:-/run/ckpt-freezer}
export CKPT_KO CKPT_CGROUP2 CKPT_FREEZER
bin=${CKPT_SELFTESTS:-$top/build/tools/ckpt-selftests}
t0=$(date +%s)

say() { echo "# run-in-vm: $*"; }
die() {
	say "$*"
	echo "0 passed, 1 failed"
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$bin" ] || die "$bin not found: run 'make tools'"
[ -r "$CKPT_KO" ] || die "$CKPT_KO not found: run 'make modules'"

# ---- cgroups ------------------------------------------------------------
if [ "$(stat -f -c %T "$CKPT_CGROUP2" 2>/dev/null)" != cgroup2fs ]; then
	mkdir -p "$CKPT_CGROUP2" &&
		mount -t cgroup2 cgroup2 "$CKPT_CGROUP2" ||
		die "cannot mount cgroup2 at $CKPT_CGROUP2"
fi
# A v1 mount with the freezer controller at $CKPT_FREEZER?
if ! awk -v m="$CKPT_FREEZER" '
	{ for (i = 7; i <= NF && $i != "-"; i++); }
	$5 == m && $(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)freezer(,|$)/ { f = 1 }
	END { exit !f }' /proc/self/mountinfo; then
	mkdir -p "$CKPT_FREEZER" &&
		mount -t cgroup -o freezer freezer "$CKPT_FREEZER" ||
		die "cannot mount a v1 freezer hierarchy at $CKPT_FREEZER"
fi

# Room for the 10,000-task test (it raises threads-max itself if needed).
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$pid_max" -ge 4194304 ] || echo 4194304 >/proc/sys/kernel/pid_max

# ---- the module ------------------------------------------------------------
if [ -e /sys/module/ckpt ]; then
	say "ckpt is already loaded; reloading $CKPT_KO"
	rmmod ckpt || die "cannot unload the loaded ckpt"
fi
insmod "$CKPT_KO" || die "insmod $CKPT_KO failed"
[ -c /dev/ckpt ] || die "/dev/ckpt did not appear"

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
