#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh: fault injection into ckpt.ko's allocations (issue 6, part 4),
# as root in a VM running the debug kernel (FAILSLAB, FAIL_PAGE_ALLOC,
# FAULT_INJECTION_DEBUG_FS, FAULT_INJECTION_STACKTRACE_FILTER).
#
#   tools/faults/run-in-vm.sh
#
# The sites: every call in ckpt.ko (.text and .init.text, read with objdump
# -dr from its relocations) to a kernel allocator or to a kernel API that
# may allocate (misc_register, register_kprobe).  Not enable_kprobe: its
# allocations (ftrace_set_filter_ip) WARN in the kernel when they fail (see
# phase 2), so they are excluded, not counted.  A site is named
# by the return address of its call, FUNCTION+0xOFF, exactly as a stack
# trace shows it.
#
# 1. Sites reached by open/ioctl: for each .text site (but the init-only
#    misc_register/register_kprobe calls, left to phase 2), failslab and
#    fail_page_alloc are aimed at that one call: require-start/require-end
#    span the single return address (.text base from /sys/module/ckpt/
#    sections/.text plus the offset), so only an allocation whose stack
#    passes through that call fails; task-filter (make-it-fail) limits it to
#    the selftest runner and its children; probability 100, times -1.  Then
#    the selftests in CKPT_FAULT_TESTS run (default: a set that makes every
#    ioctl).  A test that fails must fail with ENOMEM in its "# FAIL" line;
#    one that passes never reached the site's allocation (or survived it).
# 2. Module init: per-task fail-nth sweeps insmod: attempt N fails the Nth
#    allocation whose stack passes through module memory (kernel _end up to
#    MODULES_END); N = 1, 2, ... until insmod succeeds with nothing failed.
#    A failed insmod must say ENOMEM and leave no module and no /dev/ckpt.
#    enable_kprobe's own allocations are excluded (reject range): 6.12's
#    __arm_kprobe_ftrace() WARNs when ftrace_set_filter_ip() fails, a
#    kernel-side WARN (panic_on_warn) the module cannot avoid.
# A site counts as hit when the kernel's FAULT_INJECTION report (verbose=2:
# with a stack trace) names it, or for phase 1 when its one-address filter
# fired.  After each step: no v1 freezer.state reads CHECKPOINTING, no v2
# cgroup.freeze write is refused (EBUSY), and the module still unloads.
# Leaks are found by the kmemleak scan that follows (vmtest/debug/
# guest-check); KASAN/lockdep/WARN reports by vmtest/run's dmesg check.
#
# Last lines: "fault sites hit: X of Y" and "faults: N passed, N failed".
# Environment: CKPT_KO, CKPT_SELFTESTS, CKPT_FAULT_TESTS, CKPT_FAULT_MAX_NTH.
set -u
name=faults
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
bin=${CKPT_SELFTESTS:-$top/build/tools/ckpt-selftests}
[ -x "$bin" ] || { echo "# $name: $bin missing"; echo "$name: 0 passed, 1 failed"; exit 1; }
. "$top/tools/vm-env.sh"
t0=$(date +%s)

dbg=/sys/kernel/debug
[ -d "$dbg/failslab" ] || mount -t debugfs debugfs "$dbg" 2>/dev/null
attrs="$dbg/failslab $dbg/fail_page_alloc"
for a in $attrs; do
	[ -w "$a/probability" ] || die "$a missing: not the debug kernel (FAILSLAB, FAIL_PAGE_ALLOC, FAULT_INJECTION_DEBUG_FS)?"
done
[ -w "$dbg/failslab/require-start" ] || die "no require-start: FAULT_INJECTION_STACKTRACE_FILTER is off"
command -v objdump >/dev/null || die "objdump missing (binutils)"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "not ok - $*"; }
say() { echo "# $name: $*"; }

# ---- the sites ------------------------------------------------------------------
# "SECTION OFFSET FUNCTION+0xOFF CALLEE", OFFSET = the return address in SECTION.
# (6.10+ renamed the allocators for allocation profiling: __get_free_pages
# is a macro for get_free_pages_noprof, kmalloc for __kmalloc_cache_noprof.)
alloc_re='^(__kmalloc|kmalloc|__kvmalloc|kvmalloc|kmem_cache_alloc|__vmalloc|vmalloc|vzalloc|kvzalloc|kvrealloc|krealloc|alloc_pages|__alloc_pages|__get_free_pages|get_free_pages|get_zeroed_page|kstrdup|kstrndup|kmemdup|misc_register|register_kprobe)'
# The module's init function is also called init_module (an alias at the
# same address); a stack trace names it by its own name.
init_fn=$(objdump -t "$CKPT_KO" | awk '$4 == ".init.text" && $NF == "init_module" { a = $1 }
	$4 == ".init.text" && $3 == "F" && $NF != "init_module" { n[$1] = $NF }
	END { if (a in n) print n[a] }')
sites=$(objdump -dr --no-show-raw-insn -j .text -j .init.text "$CKPT_KO" | awk -v re="$alloc_re" -v initfn="$init_fn" '
	function hex(s,   i, v) {	# mawk has no strtonum()
		v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	/^Disassembly of section / { sec = $4; sub(/:$/, "", sec); next }
	/^[0-9a-f]+ <.*>:$/ {
		fstart = hex($1); fn = $2; gsub(/[<>:]/, "", fn)
		if (fn == "init_module" && initfn != "") fn = initfn
		next
	}
	# an instruction: "  1a2:<TAB>call   1a7 <f+0x1a7>"
	/^ +[0-9a-f]+:\t/ { a = $1; sub(/:$/, "", a); insn = hex(a); kind = $2; next }
	# its relocation: "<TAB><TAB><TAB>1a3: R_X86_64_PLT32<TAB>sym-0x4"
	/^\t+[0-9a-f]+: R_X86_64_PLT32/ {
		r = $1; sub(/:$/, "", r)
		if (hex(r) != insn + 1 || (kind != "call" && kind != "jmp")) next
		sym = $NF; sub(/[-+]0x[0-9a-f]+$/, "", sym)
		if (sym !~ re) next
		if (kind == "jmp") { printf "TAILCALL %s %s\n", fn, sym; next }
		ret = insn + 5
		printf "%s %d %s+0x%x %s\n", sec, ret, fn, ret - fstart, sym
	}')
if printf '%s\n' "$sites" | grep -q '^TAILCALL'; then
	say "allocator reached by a tail call (no frame of ckpt.ko): $(printf '%s\n' "$sites" | grep '^TAILCALL')"
	bad "every allocation site has a call frame"
	sites=$(printf '%s\n' "$sites" | grep -v '^TAILCALL')
fi
nsites=$(printf '%s\n' "$sites" | grep -c .)
[ "$nsites" -gt 0 ] || die "no allocation sites found in $CKPT_KO (objdump)"
say "$nsites allocation sites in $(basename "$CKPT_KO"):"
printf '%s\n' "$sites" | awk '{ printf "#   %-12s %-40s %s\n", $1, $3, $4 }'
hitfile=$(mktemp /tmp/ckpt-faults-hit.XXXXXX)

# ---- helpers --------------------------------------------------------------------
u64() { printf '%u' "$1"; }
# aim START END [REJECT_START REJECT_END]: arm both attributes (probability
# and task-filter are set by the caller's phase).
aim() {
	local a
	for a in $attrs; do
		echo 0 >"$a/probability"
		echo N >"$a/ignore-gfp-wait"
		echo 2 >"$a/verbose"
		echo 32 >"$a/stacktrace-depth"
		echo 1 >"$a/interval"
		echo -1 >"$a/times"
		echo 0 >"$a/space"
		echo "$(u64 "$1")" >"$a/require-start"
		echo "$(u64 "$2")" >"$a/require-end"
		echo "$(u64 "${3:-0}")" >"$a/reject-start"
		echo "$(u64 "${4:-0}")" >"$a/reject-end"
	done
	echo 0 >"$dbg/fail_page_alloc/min-order"
	echo N >"$dbg/fail_page_alloc/ignore-gfp-highmem"
}
disarm() {
	local a
	for a in $attrs; do
		echo 0 >"$a/probability"
		echo N >"$a/task-filter"
		echo 0 >"$a/require-start"
		echo 18446744073709551615 >"$a/require-end"
		echo 0 >"$a/reject-start"
		echo 0 >"$a/reject-end"
	done
}
mark=0
# newmark: write a marker into the kernel log; since_mark: the log after it.
newmark() { mark=$((mark + 1)); echo "ckpt-faults: mark $mark" >/dev/kmsg; }
since_mark() { dmesg | sed -n "/ckpt-faults: mark $mark\$/,\$p"; }
# The site a FAULT_INJECTION report names: the innermost reliable frame of
# ckpt.ko in each report's stack dump.
reported_sites() {
	since_mark | awk '
		/FAULT_INJECTION: forcing a failure/ { want = 1; next }
		want && /\[ckpt\]/ && !/ \? / {
			s = $0; sub(/^\[[^]]*\] +/, "", s); sub(/\/0x[0-9a-f]+ \[ckpt\].*$/, "", s)
			print s; want = 0
		}'
}
# No cgroup is left CHECKPOINTING: v1 freezer.state does not say so, and
# rewriting each v2 cgroup.freeze with its own value is not refused.
no_checkpointing() {
	# (Here-strings, not process substitution: the guest has no /dev/fd.)
	local f v bad=0 list
	list=$(find "$CKPT_FREEZER" -name freezer.state 2>/dev/null)
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if grep -q CHECKPOINTING "$f" 2>/dev/null; then
			say "$f reads CHECKPOINTING"; bad=1
		fi
	done <<<"$list"
	list=$(find "$CKPT_CGROUP2" -mindepth 2 -name cgroup.freeze 2>/dev/null)
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		v=$(cat "$f" 2>/dev/null) || continue
		if ! echo "$v" 2>/dev/null >"$f"; then
			say "$f: writing '$v' back is refused: still CHECKPOINTING?"; bad=1
		fi
	done <<<"$list"
	return $bad
}
# The first "# FAIL" line of each failed test in TAP log $1 (cmocka prints
# the test's output before its "not ok" line).
failed_tests() {
	awk '/^# FAIL/ && !f { f = $0 } /^not ok [0-9]+ - / { print $0 " :: " f; f = "" } /^ok [0-9]+ - / { f = "" }' "$1"
}

# ---- 1. open and ioctl sites, one at a time --------------------------------------
# Small trees only: a test that does not reach the aimed site runs in full,
# under KASAN and TCG, once per site.
tests=${CKPT_FAULT_TESTS:-session/session_end_v2 session/session_end_v1 session/session_close_v2 scan/scan_zombies scan/scan_threads_v1 regs/regs_gp_v2 regs/regs_xstate_v1 regs/regs_xstate_v2 thread/thread_info thread/thread_state_v2 thread/thread_sigactions_capacity mm/mm_vmas_capacity pages/pages_simple pages/pages_xxh64_readback_ramfs}
base=$(cat /sys/module/ckpt/sections/.text) || die "no /sys/module/ckpt/sections/.text"
say "phase 1: ckpt.ko .text at $base; tests: $tests"
while read -r sec off site callee; do
	[ "$sec" = .text ] || continue
	# Registration calls run only at module init: phase 2 covers them.
	case $callee in misc_register|register_kprobe) continue ;; esac
	ret=$((base + off))
	aim "$ret" "$((ret + 1))"
	for a in $attrs; do echo Y >"$a/task-filter"; echo 100 >"$a/probability"; done
	newmark
	log=$(mktemp /tmp/ckpt-faults-tap.XXXXXX)
	# shellcheck disable=SC2086 # $tests is a list
	CMOCKA_MESSAGE_OUTPUT=TAP sh -c 'echo 1 >/proc/self/make-it-fail && exec "$@"' sh "$bin" $tests >"$log" 2>&1
	disarm
	n=$(since_mark | grep -c 'FAULT_INJECTION: forcing a failure')
	others=$(reported_sites | grep -v -x -F "$site" | sort -u | tr '\n' ' ')
	nfail=$(grep -c '^not ok' "$log")
	unclean=$(failed_tests "$log" | grep -v -e '/ENOMEM' -e ': ENOMEM')
	if [ "$n" -gt 0 ]; then
		echo "$site" >>"$hitfile"
		say "$site ($callee): $n injected failures, $nfail tests failed"
	else
		say "$site ($callee): not reached by these tests"
	fi
	[ -z "$others" ] || { say "reports name other sites: $others"; bad "$site: failures only at the aimed site"; }
	if [ -n "$unclean" ]; then
		printf '%s\n' "$unclean" | sed 's/^/#   /'
		bad "$site: every failed test failed with ENOMEM"
	elif [ "$n" -gt 0 ] && [ "$nfail" -eq 0 ]; then
		ok "$site: $n failures absorbed, all tests passed"
	else
		ok "$site: clean errno ($nfail tests failed with ENOMEM)"
	fi
	no_checkpointing && ok "$site: no cgroup left CHECKPOINTING" || bad "$site: no cgroup left CHECKPOINTING"
	rm -f "$log"
done <<<"$sites"
# Every session is gone: the module unloads.
if rmmod ckpt; then ok "phase 1: ckpt unloads"; else bad "phase 1: ckpt unloads"; fi

# ---- 2. module init: a fail-nth sweep over insmod ---------------------------------
kend=$(awk '$3 == "_end" { print $1; exit }' /proc/kallsyms)
ek=$(awk '$3 == "enable_kprobe" { print $1; exit }' /proc/kallsyms)
ek_end=$(sort /proc/kallsyms | awk -v s="$ek" 'f { print $1; exit } $1 == s && $3 == "enable_kprobe" { f = 1 }')
[ -n "$kend" ] && [ -n "$ek" ] && [ -n "$ek_end" ] || die "no _end or enable_kprobe in /proc/kallsyms"
modend=0xffffffffff000000	# x86-64 MODULES_END
aim "0x$kend" "$modend" "0x$ek" "0x$ek_end"
say "phase 2: insmod with fail-nth, stack through 0x$kend..$modend, excluding enable_kprobe (0x$ek..0x$ek_end)"
maxn=${CKPT_FAULT_MAX_NTH:-400}
nth=1 loaded=0
while [ "$nth" -le "$maxn" ]; do
	newmark
	out=$(sh -c 'echo "$1" >/proc/thread-self/fail-nth && exec insmod "$2"' sh "$nth" "$CKPT_KO" 2>&1)
	rc=$?
	rep=$(reported_sites | head -n 1)
	n=$(since_mark | grep -c 'FAULT_INJECTION: forcing a failure')
	if [ "$rc" -eq 0 ] && [ "$n" -eq 0 ]; then
		loaded=1
		say "insmod with fail-nth=$nth: nothing left to fail, loaded"
		break
	fi
	[ -z "$rep" ] || echo "$rep" >>"$hitfile"
	if [ "$rc" -eq 0 ]; then
		say "fail-nth=$nth: ${rep:-?} failed and insmod still succeeded"
		[ -c /dev/ckpt ] && ok "fail-nth=$nth: loaded and working" || bad "fail-nth=$nth: loaded without /dev/ckpt"
		rmmod ckpt || { bad "fail-nth=$nth: rmmod"; break; }
	else
		msg=$(printf '%s' "$out" | tail -n 1)
		if printf '%s' "$out" | grep -q 'Cannot allocate memory' &&
		   [ ! -e /sys/module/ckpt ] && [ ! -e /dev/ckpt ]; then
			ok "fail-nth=$nth: ${rep:-?}: insmod fails with ENOMEM, nothing left behind"
		else
			bad "fail-nth=$nth: ${rep:-?}: insmod: $msg (module present: $([ -e /sys/module/ckpt ] && echo yes || echo no))"
			[ -e /sys/module/ckpt ] && rmmod ckpt
		fi
	fi
	nth=$((nth + 1))
done
disarm
[ "$loaded" = 1 ] || bad "insmod sweep did not finish within $maxn failures"
if [ -e /sys/module/ckpt ]; then
	rmmod ckpt && ok "phase 2: ckpt unloads" || bad "phase 2: ckpt unloads"
fi

# ---- sites hit -------------------------------------------------------------------
# A direct call to an allocator must have failed.  A call to a kernel API
# that only may allocate (misc_register, register_kprobe) counts as a site
# only if it allocated: the insmod sweep above fails every allocation made
# under the module's frames, one after the other, so one it never reached
# made none (ckpt's kprobes are ftrace-based and registered disabled:
# register_kprobe then allocates nothing; enable_kprobe is excluded above).
nhit=0 missed='' noalloc=''
while read -r sec off site callee; do
	if grep -q -x -F "$site" "$hitfile"; then
		nhit=$((nhit + 1))
	elif [ "$loaded" = 1 ] && { [ "$callee" = misc_register ] || [ "$callee" = register_kprobe ]; }; then
		noalloc+=" $site($callee)"
		nsites=$((nsites - 1))
	else
		missed+=" $site($callee)"
	fi
done <<<"$sites"
[ -z "$noalloc" ] || say "kernel API calls that made no allocation (not counted as sites):$noalloc"
unknown=$(sort -u "$hitfile" | while read -r s; do printf '%s\n' "$sites" | awk '{ print $3 }' | grep -q -x -F "$s" || printf '%s ' "$s"; done)
[ -z "$unknown" ] || say "reports at calls not in the site list: $unknown"
say "sites hit: $(sort -u "$hitfile" | tr '\n' ' ')"
[ -z "$missed" ] || say "sites never hit:$missed"
if [ "$nhit" -eq "$nsites" ]; then ok "every allocation site failed at least once"; else bad "every allocation site failed at least once"; fi
rm -f "$hitfile"
say "done in $(($(date +%s) - t0)) s"
echo "fault sites hit: $nhit of $nsites"
echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
