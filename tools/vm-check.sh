#!/bin/bash
# The VM half of `make check`, run inside the guest on each kernel: the
# module selftests, the fuzzer and race tests, then ckpt-user's tests that
# need the live module.
# Each part ends with its own "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

tools/selftests/run-in-vm.sh || status=1
# The ioctl fuzzer (200,000 calls, seeded: the seed is printed) and the
# race tests (200 iterations each); each loads and unloads the module.
tools/fuzz/run-in-vm.sh || status=1
tools/races/run-in-vm.sh || status=1

gt=build/user/tests/host_tests
if [ ! -x "$gt" ]; then
	echo "vm-check: $gt missing (run 'make user' first)"
	echo "ckpt-user-live: 0 passed, 1 failed"
	exit 1
fi
insmod "${CKPT_KO:-build/$(uname -r)/kmod/ckpt.ko}" || status=1
log=$(mktemp)
"$gt" --gtest_filter='*KmodLive*' 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
rmmod ckpt || status=1
p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$log")
f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\{0,1\}, listed below.*/\1/p' "$log")
s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\{0,1\}, listed below.*/\1/p' "$log")
p=${p:-0} f=${f:-0} s=${s:-0}
# The module is loaded here: a skip means a test could not run.
[ "$s" -eq 0 ] || { echo "vm-check: $s ckpt-user tests skipped with the module loaded: counted as failed"; f=$((f + s)); status=1; }
[ "$p" -gt 0 ] || status=1
echo "ckpt-user-live: $p passed, $f failed"

# The end-to-end tests (tools/e2e): the workloads dumped by ckpt and CRIU
# and compared, ckpt's failure cases, and the 1 GiB dump (its --stats are
# printed).  Prints "e2e: N passed, N failed".
e2e_t0=$(date +%s)
tools/e2e/run-in-vm.sh mem threads pipe pipe-v1 sockets files tree unsupported \
	fullfs sigkill frozen leave-frozen kill stream dir big || status=1
echo "# vm-check: the e2e tests took $(($(date +%s) - e2e_t0)) s"
exit $status
