#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh: the end-to-end tests, as root, in the test VM:
#
#   vmtest/run --kver KVER --out DIR -- tools/e2e/run-in-vm.sh [CASE...]
#
# For each case: start a workload (tools/e2e/workloads) in a fresh cgroup
# with `ckpt-user run --detach`, wait until it has written its truth file,
# dump it with ckpt (dump_ckpt) and with CRIU (dump_criu, --leave-running),
# check each normalized dump against the truth (truth-check.py), compare
# the two (compare.py), then ask the workload to verify its own state
# (SIGUSR1 -> "intact"), and kill the cgroup.  TAP on stdout; the last
# line is "e2e: N passed, N failed"; exit status 0 only if all passed.
#
# CASEs (default: all but big): mem threads pipe pipe-v1 sockets files tree
# unsupported big (wl-mem with a 1 GiB region; E2E_BIG_MIB changes the size;
# ckpt's --stats are printed), and the ckpt-only end-state and failure
# cases: fullfs sigkill frozen leave-frozen kill stream dir (see run_* below;
# "failures" names them all).
#
# Environment (all optional):
#   E2E_DUMPERS   "ckpt criu" (default), or just one of them
#   E2E_OUT       where images and logs go (default $VMTEST_OUT/e2e, else
#                 /tmp/e2e-out); images themselves stay on tmpfs in
#                 E2E_WORK (default /tmp/e2e-work), only small files are
#                 copied out
#   E2E_BIG_MIB   size of the big case (default 1024)
#   E2E_KEEP      1: copy CRIU's image directories to E2E_OUT too
#   CKPT_USER     the ckpt-user binary (default build/user/src/ckpt-user)
#   CKPT_KO, CKPT_CGROUP2, CKPT_FREEZER: as tools/vm-env.sh
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
name=e2e
e2e=$top/tools/e2e
wl=$top/build/tools/e2e
CKPT_USER=${CKPT_USER:-$top/build/user/src/ckpt-user}
DUMPERS=${E2E_DUMPERS:-ckpt criu}
BIG_MIB=${E2E_BIG_MIB:-1024}
WORK=${E2E_WORK:-/tmp/e2e-work}
if [ -n "${VMTEST_OUT:-}" ] && [ -w "${VMTEST_OUT:-}" ]; then
	OUT=${E2E_OUT:-$VMTEST_OUT/e2e}
else
	OUT=${E2E_OUT:-/tmp/e2e-out}
fi
PY=/usr/bin/python3

die() {
	echo "# e2e: $*"
	echo "e2e: 0 passed, 1 failed"
	exit 1
}
say() { echo "# $*"; }

[ -x "$wl/wl-mem" ] || die "$wl/wl-mem missing: run 'make tools'"
# cgroup mounts, pid_max, a fresh ckpt.ko (insmod), as the selftests do
. "$top/tools/vm-env.sh"
mkdir -p "$WORK" "$OUT" || die "cannot create $WORK or $OUT"
# In the VM, images get their own tmpfs: the guest's /tmp is capped at half
# the RAM, too small for the big case (its memory plus CRIU's images).
if [ -n "${VMTEST_OUT:-}" ] && ! mountpoint -q "$WORK"; then
	mount -t tmpfs -o size=90% e2e-work "$WORK" || die "cannot mount a tmpfs on $WORK"
fi
export WL_TMPDIR=$WORK

# ---- TAP ---------------------------------------------------------------------
n=0 passed=0 failed=0
tap() {	# tap STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
	return "$1"
}
has() { case " $DUMPERS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- the dump steps ------------------------------------------------------------
# dump_ckpt CGROUP PID IMAGE [OPTIONS...]: ckpt's dump.  CGROUP is the
# cgroup's absolute path.  The tree is thawed afterwards (ckpt's default end).
dump_ckpt() {
	local cg=$1 pid=$2 img=$3
	shift 3
	"$CKPT_USER" dump --cgroup "$cg" --pid "$pid" --output "$img" "$@"
}

# ckpt_show IMAGE OUT.json: the image's metadata with per-page hashes.
ckpt_show() {
	"$CKPT_USER" show --json --pages "$1" >"$2"
}

# dump_criu CGROUP-PATH PID DIR [EXTRA-OPTIONS...]: CRIU's dump of the tree
# rooted at PID, frozen through its cgroup, left running.  Images on tmpfs.
dump_criu() {
	local cg=$1 pid=$2 dir=$3
	shift 3
	mkdir -p "$dir" || return 1
	criu dump -t "$pid" --freeze-cgroup "$cg" -D "$dir" --leave-running \
		-o dump.log -v4 "$@"
}

# ---- cgroup and workload helpers -----------------------------------------------
# start_workload CASE [--v1] -- WORKLOAD [ARGS...]: a fresh cgroup e2e-CASE
# with the workload in it; sets d (work dir), o (output dir), cgpath, pid,
# v1.  Returns 1 (after a "not ok") if the workload did not get ready.
start_workload() {
	local case=$1 cg
	shift
	v1=
	[ "$1" = --v1 ] && { v1=--v1; shift; }
	shift	# --
	local w=$1
	shift
	d=$WORK/$case o=$OUT/$case
	rm -rf "$d" "$o"
	mkdir -p "$d" "$o"
	cg=e2e-$case
	if [ -n "$v1" ]; then cgpath=$CKPT_FREEZER/$cg; else cgpath=$CKPT_CGROUP2/$cg; fi
	[ -d "$cgpath" ] && rmdir "$cgpath" 2>/dev/null

	say "---- $case: $w $*"
	# --detach: the workload keeps ckpt-user's stdout/stderr, so they go to
	# files on tmpfs (not a pipe, which would never close; not 9p)
	# GLIBC_TUNABLES: no rseq area.  The kernel rewrites its cpu_id and
	# mm_cid fields whenever a thread returns to user space on another
	# CPU, so two dumps of the same tree would differ there.
	GLIBC_TUNABLES=glibc.pthread.rseq=0 \
	"$CKPT_USER" run --cgroup "$cg" $v1 --detach -- \
		"$wl/$w" "$d/truth.json" "$d/ready" "$d/result" "$@" \
		</dev/null >"$d/run.out" 2>"$d/run.err"
	pid=$(sed -n 's/^pid \([0-9]*\) in .*/\1/p' "$d/run.out")
	if [ -z "$pid" ]; then
		cat "$d/run.out" "$d/run.err" | sed 's/^/# /'
		tap 1 "$case: workload started"
		return 1
	fi
	for _ in $(seq 300); do [ -e "$d/ready" ] && break; sleep 0.1; done
	if ! tap "$([ -e "$d/ready" ]; echo $?)" "$case: workload $w (pid $pid) ready"; then
		kill_cgroup "$cgpath" "$v1"
		return 1
	fi
	cp "$d/truth.json" "$o/"
}

# cg_frozen PATH: is the cgroup frozen (v2 cgroup.events, v1 freezer.state)?
cg_frozen() {
	if [ -e "$1/cgroup.events" ]; then
		grep -qx 'frozen 1' "$1/cgroup.events"
	else
		[ "$(cat "$1/freezer.state")" = FROZEN ]
	fi
}
cg_state() { if cg_frozen "$1"; then echo frozen; else echo thawed; fi; }
# cg_freeze PATH 1|0: freeze or thaw, and wait for it (up to 10 s)
cg_freeze() {
	local want
	if [ -e "$1/cgroup.freeze" ]; then
		echo "$2" >"$1/cgroup.freeze"
	elif [ "$2" = 1 ]; then
		echo FROZEN >"$1/freezer.state"
	else
		echo THAWED >"$1/freezer.state"
	fi
	want=$([ "$2" = 1 ] && echo frozen || echo thawed)
	for _ in $(seq 100); do [ "$(cg_state "$1")" = "$want" ] && return 0; sleep 0.1; done
	return 1
}
# check_state CASE PATH WANT: tap the cgroup's end state
check_state() {
	local got
	got=$(cg_state "$2")
	[ "$got" = "$3" ]
	tap $? "$1: cgroup $3 after the dump (it is $got)"
}
# check_no_image CASE TARGET: nothing at TARGET, no TARGET.tmp.* next to it
check_no_image() {
	local left
	left=$(ls -d "$2" "$2".tmp.* 2>/dev/null)
	[ -z "$left" ]
	tap $? "$1: no image and no temporary left at $2${left:+ (found: $(echo $left))}"
}
# check_intact CASE: SIGUSR1 -> the workload checks itself ("intact")
check_intact() {
	rm -f "$d/result"
	kill -USR1 "$pid"
	# checking 1 GiB under TCG takes a while
	for _ in $(seq 3000); do [ -e "$d/result" ] && break; sleep 0.1; done
	if [ -e "$d/result" ] && [ "$(cat "$d/result")" = intact ]; then
		tap 0 "$1: workload state intact${2:+ $2}"
	else
		sed 's/^/#   /' "$d/result" 2>/dev/null
		tap 1 "$1: workload state intact${2:+ $2}"
	fi
}
end_case() {
	kill_cgroup "$cgpath" "$v1"
	cp "$d/run.err" "$o/" 2>/dev/null
	rm -rf "$d"
}

# ---- one comparison case -------------------------------------------------------
# run_case CASE [--v1] -- WORKLOAD [ARGS...]   (CRIU options in CRIU_OPTS)
run_case() {
	local case=$1 rc vh= w
	start_workload "$@" || return
	for w in "$@"; do case $w in wl-*) break ;; esac; done
	[ "$case" = big ] && vh=--vma-hash
	# The workloads wait in sigwaitinfo(), which a freeze can interrupt
	# (EINTR; always with v2, on 6.1 with v1 too): after the thaw they run
	# one turn of their loop (errno, the stack, libc data change).  CRIU's
	# dump comes after ckpt's thaw, so it sees the tree after such a turn;
	# one freeze/thaw cycle first makes ckpt's dump see the same (later
	# turns change nothing more; where a freeze does not interrupt, the
	# cycle changes nothing).
	cg_freeze "$cgpath" 1 && cg_freeze "$cgpath" 0 && sleep 0.3
	tap $? "$case: freeze/thaw cycle before the dumps"

	# ckpt first: it does not touch the tree beyond freezing it
	if has ckpt; then
		local stats=
		[ "$case" = big ] && stats=--stats
		t0=$(date +%s%N)
		dump_ckpt "$cgpath" "$pid" "$d/ckpt.img" $stats >"$o/ckpt-dump.log" 2>&1
		rc=$?
		t1=$(date +%s%N)
		if [ "$w" = wl-unsupported ]; then
			check_refusal "$case" "$d/truth.json" "$o/ckpt-dump.log" "$rc"
			check_no_image "$case" "$d/ckpt.img"
		elif tap "$rc" "$case: ckpt dump"; then
			say "$case: ckpt dump took $(((t1 - t0) / 1000000)) ms" \
				"($(du -k "$d/ckpt.img" | cut -f1) KiB image)"
			# the statistics of the big dump go to the log (CI)
			[ -n "$stats" ] && sed "s/^/# $case: ckpt --stats: /" "$o/ckpt-dump.log"
			ckpt_show "$d/ckpt.img" "$o/ckpt-show.json" &&
				$PY "$e2e/ckpt-normalize.py" -o "$o/ckpt.json" "$o/ckpt-show.json"
			tap $? "$case: ckpt show --json --pages, normalized"
			[ -s "$o/ckpt.json" ] && truth_check "$case" ckpt "$d/truth.json" "$o/ckpt.json"
			[ "${E2E_KEEP:-0}" = 1 ] && [ "$case" != big ] && cp "$d/ckpt.img" "$o/"
			# the big case needs the memory for CRIU's images
			[ "$case" = big ] && rm -f "$d/ckpt.img" "$o/ckpt-show.json"
		else
			sed 's/^/#   /' "$o/ckpt-dump.log" | tail -5
		fi
		check_state "$case" "$cgpath" thawed
	fi

	if has criu; then
		t0=$(date +%s%N)
		dump_criu "$cgpath" "$pid" "$d/criu" ${CRIU_OPTS:-} >"$o/criu.out" 2>&1
		rc=$?
		t1=$(date +%s%N)
		cp "$d/criu/dump.log" "$o/criu-dump.log" 2>/dev/null
		say "$case: criu dump took $(((t1 - t0) / 1000000)) ms" \
			"($(du -sk "$d/criu" | cut -f1) KiB of images)"
		if tap "$rc" "$case: criu dump"; then
			$PY "$e2e/criu-normalize.py" $vh -o "$o/criu.json" "$d/criu"
			tap $? "$case: criu images normalized"
			[ -z "$vh" ] && [ "$w" != wl-unsupported ] &&
				truth_check "$case" criu "$d/truth.json" "$o/criu.json"
			# the comparison chain, on a ckpt-style JSON made from CRIU's
			if [ "$case" = mem ]; then
				$PY "$e2e/test-compare.py" "$d/criu" >"$o/test-compare.txt" 2>&1
				tap $? "$case: compare.py self-test (test-compare.py)" ||
					sed 's/^/#   /' "$o/test-compare.txt" | tail -10
			fi
		else
			grep -E 'Error|Warn' "$d/criu/dump.log" 2>/dev/null | tail -8 | sed 's/^/#   /'
		fi
		[ "${E2E_KEEP:-0}" = 1 ] && cp -r "$d/criu" "$o/criu-img" 2>/dev/null
		rm -rf "$d/criu"
	fi

	local cmpwith=$o/ckpt.json
	if [ -s "$cmpwith" ] && [ -s "$o/criu.json" ]; then
		$PY "$e2e/compare.py" "$o/criu.json" "$cmpwith" >"$o/compare.txt" 2>&1
		rc=$?
		grep -E '^(DIFF|EXCEPTION|compare:)' "$o/compare.txt" | head -30 | sed 's/^/#   /'
		tap "$rc" "$case: ckpt and criu dumps agree"
	fi

	# the workload checks itself (this consumes pipe/socket data)
	check_intact "$case" "after the dumps"
	end_case
}

truth_check() {	# CASE TOOL TRUTH NORMALIZED
	$PY "$e2e/truth-check.py" "$3" "$4" >"$OUT/$1/truth-$2.txt" 2>&1
	local rc=$?
	grep -E '^(FAIL|truth-check:)' "$OUT/$1/truth-$2.txt" | head -10 | sed 's/^/#   /'
	tap "$rc" "$1: $2 dump matches the workload's truth"
}

# The ckpt dump of wl-unsupported must fail, naming the pid, fd and type.
check_refusal() {	# CASE TRUTH LOG RC
	local pid fd
	pid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["expect_dump_failure"]["pid"])' "$2")
	fd=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["expect_dump_failure"]["fd"])' "$2")
	tap "$([ "$4" != 0 ]; echo $?)" "$1: ckpt dump refuses the tree"
	grep -q "$pid" "$3" && grep -q "$fd" "$3" && grep -qi inotify "$3"
	tap $? "$1: the error names pid $pid, fd $fd, inotify"
	sed 's/^/#   /' "$3" | tail -3
}

kill_cgroup() {	# PATH [--v1]
	local p=$1
	if [ -z "${2:-}" ]; then
		echo 1 >"$p/cgroup.kill" 2>/dev/null
	else
		echo THAWED >"$p/freezer.state" 2>/dev/null
		for q in $(cat "$p/cgroup.procs" 2>/dev/null); do kill -9 "$q" 2>/dev/null; done
	fi
	for _ in $(seq 100); do rmdir "$p" 2>/dev/null && return; sleep 0.1; done
	say "cannot remove $p: $(cat "$p/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
}

# ---- ckpt's end states and failures ------------------------------------------------
# A failed dump must leave the cgroup as it was, the workload intact and
# running, and no image (nor temporary) at the target.

# fullfs: the image target is a 1 MiB tmpfs: ENOSPC in the middle.
run_fullfs() {
	start_workload fullfs -- wl-mem || return
	local full=$WORK/full-fs
	mkdir -p "$full" && mount -t tmpfs -o size=1m e2e-full "$full" ||
		{ tap 1 "fullfs: mount a 1 MiB tmpfs"; end_case; return; }
	dump_ckpt "$cgpath" "$pid" "$full/img" >"$o/ckpt-dump.log" 2>&1
	tap "$([ $? != 0 ]; echo $?)" "fullfs: ckpt dump to a full filesystem fails"
	sed 's/^/#   /' "$o/ckpt-dump.log" | tail -2
	check_state fullfs "$cgpath" thawed
	check_no_image fullfs "$full/img"
	check_intact fullfs "and running after the failed dump"
	umount "$full"
	end_case
}

# sigkill: kill -9 ckpt-user while it holds the tree frozen in the middle
# of a 256 MiB dump; its watchdog (ckpt-watchdog) must thaw the cgroup and
# remove the temporary image.  --no-pre-copy: the tree is then frozen
# while every page is read (seconds here), so the kill lands in that
# window whatever the machine's speed; the temporary image exists from
# before the freeze.
run_sigkill() {
	start_workload sigkill -- wl-mem 256 || return
	local img=$d/k.img dpid wd tmp= frozen=0
	# not through dump_ckpt: $! must be ckpt-user itself, not a subshell
	"$CKPT_USER" dump --no-pre-copy --cgroup "$cgpath" --pid "$pid" --output "$img" >"$o/ckpt-dump.log" 2>&1 &
	dpid=$!
	# wait until the cgroup is frozen (the dump is then reading pages),
	# and kill at once: nothing slow between the check and the kill
	for _ in $(seq 2000); do
		if cg_frozen "$cgpath"; then
			kill -9 "$dpid" 2>/dev/null
			frozen=1
			break
		fi
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.01
	done
	[ "$frozen" = 1 ] || kill -9 "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	local rc=$?
	local frozen_at_kill=thawed
	[ "$frozen" = 1 ] && frozen_at_kill=frozen
	tmp=$(ls -d "$img".tmp.* 2>/dev/null | head -1)
	wd=$(pgrep -x ckpt-watchdog | tr '\n' ' ')
	[ "$frozen" = 1 ] && [ "$rc" = 137 ]
	tap $? "sigkill: ckpt-user killed while the tree is frozen mid-dump (cgroup $frozen_at_kill at the kill, exit $rc; just after: temp ${tmp:-gone}, watchdog ${wd:-gone})"
	# the watchdog thaws and cleans up
	for _ in $(seq 100); do
		! cg_frozen "$cgpath" && [ -z "$(ls -d "$img".tmp.* 2>/dev/null)" ] && break
		sleep 0.1
	done
	check_state sigkill "$cgpath" thawed
	check_no_image sigkill "$img"
	for _ in $(seq 50); do [ -z "$(pgrep -x ckpt-watchdog)" ] && break; sleep 0.1; done
	[ -z "$(pgrep -x ckpt-watchdog)" ]
	tap $? "sigkill: the watchdog has exited"
	check_intact sigkill "and running after the killed dump"
	end_case
}

# frozen: a cgroup frozen before the dump stays frozen after a successful
# dump and after a failed one.
run_frozen() {
	start_workload frozen -- wl-mem || return
	cg_freeze "$cgpath" 1
	tap $? "frozen: cgroup frozen before the dump"
	dump_ckpt "$cgpath" "$pid" "$d/ok.img" >"$o/ckpt-dump.log" 2>&1
	tap $? "frozen: ckpt dump of a frozen cgroup"
	check_state frozen "$cgpath" frozen
	"$CKPT_USER" show --verify "$d/ok.img" >"$o/verify.txt" 2>&1
	tap $? "frozen: the image verifies ($(cat "$o/verify.txt"))"
	local full=$WORK/full-fs
	mkdir -p "$full" && mount -t tmpfs -o size=1m e2e-full "$full"
	dump_ckpt "$cgpath" "$pid" "$full/img" >"$o/ckpt-dump-fail.log" 2>&1
	tap "$([ $? != 0 ]; echo $?)" "frozen: ckpt dump to a full filesystem fails"
	check_state frozen "$cgpath" frozen
	check_no_image frozen "$full/img"
	umount "$full"
	cg_freeze "$cgpath" 0
	check_intact frozen "after thawing"
	end_case
}

# leave-frozen: --leave-frozen ends with the cgroup frozen.
run_leave_frozen() {
	start_workload leave-frozen -- wl-mem || return
	dump_ckpt "$cgpath" "$pid" "$d/lf.img" --leave-frozen >"$o/ckpt-dump.log" 2>&1
	tap $? "leave-frozen: ckpt dump --leave-frozen"
	check_state leave-frozen "$cgpath" frozen
	cg_freeze "$cgpath" 0
	check_intact leave-frozen "after thawing"
	end_case
}

# kill: --kill ends with the tree killed, the image complete.
run_kill() {
	start_workload kill -- wl-tree || return
	dump_ckpt "$cgpath" "$pid" "$d/k.img" --kill >"$o/ckpt-dump.log" 2>&1
	tap $? "kill: ckpt dump --kill"
	local left=x
	for _ in $(seq 50); do
		left=$(cat "$cgpath/cgroup.procs" 2>/dev/null)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] && ! kill -0 "$pid" 2>/dev/null
	tap $? "kill: the tree is gone after the dump${left:+ (left: $(echo $left))}"
	"$CKPT_USER" show --verify "$d/k.img" >"$o/verify.txt" 2>&1
	tap $? "kill: the image verifies ($(cat "$o/verify.txt"))"
	end_case
}

# stream: -o - piped into show --verify -
run_stream() {
	start_workload stream -- wl-mem || return
	"$CKPT_USER" dump --cgroup "$cgpath" --pid "$pid" -o - 2>"$o/ckpt-dump.log" |
		"$CKPT_USER" show --verify - >"$o/verify.txt" 2>&1
	local st=("${PIPESTATUS[@]}")
	tap "${st[0]}" "stream: ckpt dump -o - (exit ${st[0]})"
	tap "${st[1]}" "stream: show --verify - on the stream ($(cat "$o/verify.txt"))"
	check_state stream "$cgpath" thawed
	check_intact stream "after the streamed dump"
	end_case
}

# One directory image of the dir case's workload, dumped with "$@": its
# files (meta.ckpt and exactly N page files, no temporary left),
# --verify, the show JSON against the workload's truth, the tree after.
dir_image() {	# TAG N [DUMP ARGS...]
	local tag=$1 files=$2 img="$d/$1.d" want=meta.ckpt k have	# not n: tap's
	shift 2
	"$CKPT_USER" dump --cgroup "$cgpath" --pid "$pid" -D "$img" "$@" >"$o/$tag-dump.log" 2>&1
	tap $? "dir: ckpt dump -D DIR $* ($tag)"
	for ((k = 1; k < files; k++)); do want+=" pages.$k.ckpt"; done
	want+=" pages.ckpt"
	have=$(cd "$img" 2>/dev/null && echo *)
	[ "$have" = "$want" ] && [ -z "$(ls -d "$img".tmp.* 2>/dev/null)" ]
	tap $? "dir: $tag: DIR holds meta.ckpt and $files page file(s) ($have), no temporary left"
	"$CKPT_USER" show --verify "$img" >"$o/$tag-verify.txt" 2>&1
	tap $? "dir: $tag: show --verify DIR ($(cat "$o/$tag-verify.txt"))"
	"$CKPT_USER" show --json --pages "$img" >"$o/$tag-show.json" &&
		$PY "$e2e/ckpt-normalize.py" -o "$o/$tag.json" "$o/$tag-show.json"
	tap $? "dir: $tag: show --json --pages DIR, normalized"
	[ -s "$o/$tag.json" ] && truth_check dir "$tag" "$d/truth.json" "$o/$tag.json"
	check_state dir "$cgpath" thawed
	check_intact dir "after the $tag dump"
}

# dir: -D DIR, a directory image, shown and verified: with the default
# page files (one per CPU, at most 4: the module writes the pages here)
# and with three (format 3.0, three copying threads).
run_dir() {
	local cpus
	start_workload dir -- wl-mem || return
	cpus=$(nproc)
	dir_image auto $((cpus < 4 ? cpus : 4))
	dir_image three 3 --page-files 3
	end_case
}

# ---- the cases -----------------------------------------------------------------
failures="fullfs sigkill frozen leave-frozen kill stream dir"
cases=${*:-mem threads pipe pipe-v1 sockets files tree unsupported $failures}
say "$kver: cases: $cases; dumpers: $DUMPERS; criu $(criu --version | sed -n 's/^Version: //p')"
t_start=$(date +%s)
for c in $cases; do
	CRIU_OPTS=
	case $c in
	mem)	run_case mem -- wl-mem ;;
	big)	run_case big -- wl-mem "$BIG_MIB" ;;
	threads) run_case threads -- wl-threads 4 ;;
	pipe)	run_case pipe -- wl-pipe "$WORK/fifo-pipe" ;;
	pipe-v1) run_case pipe-v1 --v1 -- wl-pipe "$WORK/fifo-v1" ;;
	sockets) CRIU_OPTS="--tcp-established --network-lock nftables" run_case sockets -- wl-sockets 40100 ;;
	files)	run_case files -- wl-files ;;
	tree)	run_case tree -- wl-tree zombie ;;
	unsupported) run_case unsupported -- wl-unsupported ;;
	fullfs) run_fullfs ;;
	sigkill) run_sigkill ;;
	frozen) run_frozen ;;
	leave-frozen) run_leave_frozen ;;
	kill)	run_kill ;;
	stream) run_stream ;;
	dir)	run_dir ;;
	*)	tap 1 "unknown case $c" ;;
	esac
done

if [ -e /sys/module/ckpt ]; then
	rmmod ckpt || { say "rmmod ckpt failed"; failed=$((failed + 1)); }
fi
say "results in $OUT; the cases took $(($(date +%s) - t_start)) s"
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
