#!/bin/bash
# The main job, run inside the test VM by `make demo`: load ckpt.ko, start a
# small multi-process workload in a fresh cgroup v2 with `ckpt-user run`,
# checkpoint it with `ckpt-user dump`, show the decoded image, check that
# the workload runs on, then clean up.
set -euo pipefail
cd "$(dirname "$0")/.."
kver=$(uname -r)
ko=${CKPT_KO:-build/$kver/kmod/ckpt.ko}
user=${CKPT_USER:-build/user/src/ckpt-user}
cg=/sys/fs/cgroup/ckpt-demo
img=/tmp/ckpt-demo
work=$(mktemp -d)

cleanup() {
	if [ -d "$cg" ]; then
		echo 1 > "$cg/cgroup.kill" 2>/dev/null || true
		echo 0 > "$cg/cgroup.freeze" 2>/dev/null || true
		for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	fi
	rm -rf "$work"
	rmmod ckpt 2>/dev/null || true
}
trap cleanup EXIT

echo "== kernel $kver: insmod $ko"
insmod "$ko"
"$user" check || true

# The workload: a session leader with a pipeline that carries a counter, a
# subshell with two children, and a process holding a file open at an
# offset.  `ckpt-user run` starts it inside the new cgroup, so the whole
# tree is born there.
cat > "$work/job.sh" <<'JOB'
exec 3>"$1/log"
(i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done) | cat >&3 &
(sleep 600 & sleep 600 & wait) &
exec 4<"$0"; read -r _ <&4
wait
JOB
echo "== ckpt-user run --cgroup ckpt-demo --detach -- bash job.sh"
# --detach: the pid line on stdout; the job keeps ckpt-user's stdout, so it
# goes to a file, not to a pipe that $(...) would wait on until the job ends.
"$user" run --cgroup ckpt-demo --detach -- bash "$work/job.sh" "$work" </dev/null >"$work/run.out"
pid=$(awk '/^pid /{print $2}' "$work/run.out")
for _ in $(seq 100); do
	[ "$(wc -l < "$cg/cgroup.procs")" -ge 6 ] && break
	sleep 0.1
done
echo "   root pid $pid; $(wc -l < "$cg/cgroup.procs") processes in $cg"

echo "== ckpt-user dump --cgroup ckpt-demo --pid $pid -o $img.ckpt --stats"
"$user" dump --cgroup ckpt-demo --pid "$pid" -o "$img.ckpt" --stats
ls -l "$img.ckpt"

echo "== ckpt-user show --verify $img.ckpt"
"$user" show --verify "$img.ckpt"
echo "== ckpt-user show $img.ckpt (the summary a terminal gets)"
"$user" show --text "$img.ckpt"

before=$(wc -l < "$work/log")
sleep 1
after=$(wc -l < "$work/log")
echo "== after the dump the workload runs on: $before -> $after log lines"
[ "$after" -gt "$before" ]
echo "== cgroup.events: $(grep frozen "$cg/cgroup.events")"
