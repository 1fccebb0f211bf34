#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot the test VM once per kernel (one at a time), run the
# benchmark suite in it (tools/bench.sh), then turn the samples into the
# table and the plots (tools/bench/report.py).
#
#   tools/bench/run.sh [--quick]
#
# CKPT_KVERS: the kernels (default: the newest installed 6.12).  Results:
# build/bench/KVER/{bench.json,output.log,...}, build/bench/results.md; with
# BENCH_DOC=1 (the default without --quick) also Documentation/bench-*.png
# and Documentation/bench-results.md.  BENCH_MEM (MiB, default 6144),
# BENCH_SMP (vCPUs, default 2) and BENCH_TIMEOUT (s, default 14400) size
# the VM.  Each vCPU gets its own host thread (CKPT_VM_TCG=multi), as a
# real machine runs its CPUs, on 6.12; on 6.1 they share one (single: QEMU
# 7.2 has livelocked two 6.1 vCPUs on a text patch site, see
# Documentation/performance.md, Limits).  CKPT_VM_TCG overrides both.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
quick=${BENCH_QUICK:-0}
[ "${1:-}" = --quick ] && quick=1
kvers=${CKPT_KVERS:-$(ls -d /lib/modules/6.12.*/build 2>/dev/null | sed 's|/lib/modules/\([^/]*\)/build|\1|' | sort -V | tail -1)}
[ -n "$kvers" ] || { echo "bench: no 6.12 kernel with headers installed (CKPT_KVERS selects)" >&2; exit 2; }
out=${BENCH_OUT:-$top/build/bench}
doc=${BENCH_DOC:-$([ "$quick" = 1 ] && echo 0 || echo 1)}
mkdir -p "$out"
jsons=()
rc=0
benv=(BENCH_QUICK=$quick)
while IFS='=' read -r n v; do
	case $n in BENCH_GROUPS|BENCH_REPS|BENCH_CRIU_TREE_MAX|BENCH_DUMP_TREE_MAX|BENCH_BIG_TREE_REPS|BENCH_TREE_SHAPES|BENCH_CASES) benv+=("$n=$v") ;; esac
done < <(env)
for k in $kvers; do
	tcg=${CKPT_VM_TCG:-$(case $k in 6.1.*) echo single ;; *) echo multi ;; esac)}
	echo "== bench on $k (quick=$quick, TCG $tcg)"
	# vmtest passes only CKPT_* variables: hand BENCH_* over by env(1)
	CKPT_VM_TCG=$tcg nice "$top/vmtest/run" --kver "$k" --out "$out/$k" \
		--mem "${BENCH_MEM:-6144}" --smp "${BENCH_SMP:-2}" --timeout "${BENCH_TIMEOUT:-14400}" -- \
		env "${benv[@]}" "$top/tools/bench.sh" || rc=1
	[ -s "$out/$k/bench.json" ] && jsons+=("$out/$k/bench.json")
done
[ ${#jsons[@]} -gt 0 ] || { echo "bench: no results" >&2; exit 1; }
args=(--md "$out/results.md" --plot-dir "$out")
[ "$doc" = 1 ] && args=(--md "$top/Documentation/bench-results.md" --plot-dir "$top/Documentation")
/usr/bin/python3 "$top/tools/bench/report.py" "${args[@]}" "${jsons[@]}"
exit $rc
