#!/bin/bash
# `make bench`, inside the VM: the scan benchmark (prints numbers, asserts
# nothing on time).  Arguments go to scan-bench: [-r REPS] [N...].
set -euo pipefail
cd "$(dirname "$0")/.."
insmod "${CKPT_KO:-build/$(uname -r)/kmod/ckpt.ko}"
trap 'rmmod ckpt' EXIT
echo "== $(uname -r), $(nproc) CPUs (QEMU TCG: compare ratios, not absolute times)"
build/tools/scan-bench ${CKPT_BENCH_ARGS:-}
