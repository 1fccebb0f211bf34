#!/bin/bash
# `make check` after the build: host tests, then the VM tests on every
# target kernel in parallel; ends with one line "check: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/check
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 status=0

# Host tests: TAP "ok"/"not ok" lines, the header compile checks, and
# ckpt-user's CTest summary.
tools/check-host.sh 2>&1 | tee "$out/host.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
hp=$(grep -c '^ok ' "$out/host.log")
hf=$(grep -c '^not ok ' "$out/host.log")
ct=$(sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1 \2/p' "$out/host.log")
if [ -n "$ct" ]; then
	set -- $ct
	# CTest counts a skipped test as passed; it is not.
	cs=$(grep -c '(Skipped)' "$out/host.log")
	hf=$((hf + $1)) hp=$((hp + $2 - $1 - cs))
	[ "$cs" -eq 0 ] || echo "check-host: $cs ckpt-user tests skipped on the host, not counted (they need the module; the VM runs them)"
else
	echo "check-host: no CTest summary"
	hf=$((hf + 1)) status=1
fi
passed=$((passed + hp)) failed=$((failed + hf))
echo "check-host: $hp passed, $hf failed"

# The VM: the module selftests, fuzzer, race tests, ckpt-user's
# live-module tests and the end-to-end tests (tools/e2e), on every target
# kernel; each of these 5 parts prints a "N passed, N failed" line.
# --mem 4096: the e2e part dumps a 1 GiB process with both tools.
vmtest/run-all --out-base "$out/vm" --mem 4096 --timeout 1800 -- tools/vm-check.sh || status=1
# The debug-kernel lane (vmtest/debug/README): the debug kernel (KASAN,
# lockdep, kmemleak, fault injection; built once, then cached), ckpt.ko
# built against it, and in its guest the selftests, fuzzer, races, fault
# injection and a kmemleak scan: 5 summary lines, counted below like the
# distro kernels'.  After the distro lane, not beside it: both use 2 CPUs.
dbg_rc=0
CKPT_DEBUG_OUT="$out/vm" vmtest/debug/check-debug 2>&1 | tee "$out/debug.log"
dbg_rc=${PIPESTATUS[0]}
if [ "$dbg_rc" -ne 0 ]; then
	status=1
	# A kernel or module that did not build leaves no result directory.
	if ! grep -q '^check-debug: .*: \(PASS\|FAIL\)' "$out/debug.log"; then
		echo "check-debug: the lane did not run (exit $dbg_rc): see $out/debug.log"
		failed=$((failed + 1))
	fi
fi
for d in "$out"/vm/*/; do
	k=$(basename "$d")
	verdict=$(cat "$d/verdict" 2>/dev/null || echo "FAIL: no verdict")
	case $verdict in
	PASS*) ;;
	*)	# A kernel warning, a bad taint or a dead guest fails the lane
		# even when every test passed.
		echo "check-vm: $k: $verdict"
		failed=$((failed + 1)) status=1 ;;
	esac
	lines=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$d/output.log" 2>/dev/null)
	if [ "$(printf '%s\n' "$lines" | grep -c passed)" -lt 5 ]; then
		echo "check-vm: $k: a summary line is missing (guest died or the run was cut short)"
		failed=$((failed + 1)) status=1
	fi
	while read -r line; do
		[ -n "$line" ] || continue
		echo "check-vm: $k: $line"
		part=${line%%: *}
		line=${line#*: }
		p=${line%% passed*} f=${line#*passed, } f=${f%% failed*}
		# The fuzzer counts invariant checks (hundreds of thousands):
		# in the total it is one test per kernel.
		if [ "$part" = ckpt-fuzz ]; then
			p=$((f == 0)) f=$((f > 0))
		fi
		passed=$((passed + p)) failed=$((failed + f))
	done <<<"$lines"
done
# The packages: build both .debs, install them (DKMS builds ckpt.ko for
# each kernel), load the DKMS module in a VM per kernel, purge, and build
# from `make install`'s source with plain kbuild.
tools/check-packages.sh 2>&1 | tee "$out/packages.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
line=$(grep -E '^check-packages: [0-9]+ passed, [0-9]+ failed' "$out/packages.log" | tail -n1)
if [ -n "$line" ]; then
	line=${line#*: }
	p=${line%% passed*} f=${line#*passed, } f=${f%% failed*}
	passed=$((passed + p)) failed=$((failed + f))
else
	echo "check-packages: no summary line"
	failed=$((failed + 1)) status=1
fi

[ "$failed" -eq 0 ] || status=1
echo "check: $passed passed, $failed failed"
exit $status
