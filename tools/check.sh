#!/bin/bash
# `make check` after the build: host tests, then the VM selftests on every
# target kernel in parallel; ends with one line "check: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/check
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 status=0

# Host tests: TAP "ok"/"not ok" lines, plus the header compile checks.
tools/check-host.sh 2>&1 | tee "$out/host.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
hp=$(grep -c '^ok ' "$out/host.log")
hf=$(grep -c '^not ok ' "$out/host.log")
passed=$((passed + hp)) failed=$((failed + hf))
echo "check-host: $hp passed, $hf failed"

# VM selftests; each kernel's run-in-vm.sh ends with "N passed, N failed".
vmtest/run-all --out-base "$out/vm" -- tools/selftests/run-in-vm.sh || status=1
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
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$d/output.log" 2>/dev/null | tail -n1)
	if [ -z "$line" ]; then
		echo "check-vm: $k: no summary line (guest died or the run was cut short)"
		failed=$((failed + 1)) status=1
		continue
	fi
	echo "check-vm: $k: $line"
	p=${line%% passed*} f=${line#*passed, } f=${f%% failed*}
	passed=$((passed + p)) failed=$((failed + f))
done
[ "$failed" -eq 0 ] || status=1
echo "check: $passed passed, $failed failed"
exit $status
