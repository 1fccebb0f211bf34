#!/bin/bash
# Host-side tests (no module needed): the ABI header and the userspace
# helpers.  Run by `make check-host`; prints TAP and a summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
b=build/hosttests
mkdir -p "$b"
fail=0

echo "# uapi header compiles as strict C99, C11 and C++17"
gcc -std=c99 -pedantic -Wall -Wextra -Werror -Iuapi -fsyntax-only -x c uapi/linux/ckpt.h
gcc -std=c11 -pedantic -Wall -Wextra -Werror -Iuapi -fsyntax-only -x c uapi/linux/ckpt.h
g++ -std=c++17 -pedantic -Wall -Wextra -Werror -Iuapi -o "$b/header_cxx" tools/hosttests/header_cxx.cc

export CMOCKA_MESSAGE_OUTPUT=TAP
for t in build/tools/host-*; do
	[ -x "$t" ] || continue
	echo "# $t"
	"$t" || fail=1
done
# ckpt-user's unit and host tests (CTest prints "N% tests passed, N tests
# failed out of N"; tests that need the module skip here and run in the VM).
if [ -d build/user ]; then
	echo "# ckpt-user (ctest)"
	ctest --test-dir build/user --output-on-failure 2>&1 | tee build/hosttests/ctest.log
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
else
	echo "check-host: build/user missing (run 'make user')"
	fail=1
fi
exit $fail
