#!/bin/bash
# The main job, run inside the test VM by `make demo`: load ckpt.ko, start a
# small process tree in a fresh cgroup v2, freeze it, begin a checkpoint
# session and print the scanned tree, then clean up.
set -euo pipefail
cd "$(dirname "$0")/.."
kver=$(uname -r)
ko=${CKPT_KO:-build/$kver/kmod/ckpt.ko}
cg=/sys/fs/cgroup/ckpt-demo

cleanup() {
	if [ -d "$cg" ]; then
		echo 1 > "$cg/cgroup.kill" 2>/dev/null || true
		echo 0 > "$cg/cgroup.freeze" 2>/dev/null || true
		for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	fi
	rmmod ckpt 2>/dev/null || true
}
trap cleanup EXIT

echo "== kernel $kver: insmod $ko"
insmod "$ko"
mkdir "$cg"

# The workload enters the cgroup before it forks, so the whole tree is born
# inside: a session leader with a pipeline, a subshell with two children.
bash -c "echo \$\$ > $cg/cgroup.procs
	 setsid bash -c 'sleep 600 | cat & (sleep 600 & sleep 600 & wait) & wait' &
	 sleep 600 &
	 wait" &
root=$!
disown
for _ in $(seq 100); do
	[ "$(wc -l < "$cg/cgroup.procs")" -ge 8 ] && break
	sleep 0.1
done

echo "== freezing $cg (root pid $root)"
echo 1 > "$cg/cgroup.freeze"
until grep -q '^frozen 1' "$cg/cgroup.events"; do sleep 0.05; done

echo "== session: CHECKPOINTING, scanned tree; meanwhile someone tries to thaw:"
build/tools/ckpt-scan "$cg" "$root" -- bash -c "echo 0 > $cg/cgroup.freeze; \
	echo \"thaw attempt: \$?\"; grep frozen $cg/cgroup.events"
echo "== session ended; cgroup.events: $(grep frozen "$cg/cgroup.events")"
