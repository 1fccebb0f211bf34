# SPDX-License-Identifier: GPL-2.0
# Sourced (POSIX sh) by the guest-side runners: tools/selftests/run-in-vm.sh,
# tools/fuzz/run-in-vm.sh and tools/races/run-in-vm.sh.  Mounts cgroup v2
# and a v1 freezer hierarchy if missing, makes room for large trees
# (pid_max), and loads a fresh ckpt.ko.  Expects $top; a runner may define
# die() first, otherwise it prints "$name: 0 passed, 1 failed".
kver=$(uname -r)
CKPT_KO=${CKPT_KO:-$top/build/$kver/kmod/ckpt.ko}
CKPT_CGROUP2=${CKPT_CGROUP2:-/sys/fs/cgroup}
CKPT_FREEZER=${CKPT_FREEZER:-/run/ckpt-freezer}
export CKPT_KO CKPT_CGROUP2 CKPT_FREEZER

if ! command -v die >/dev/null 2>&1; then
	die() {
		echo "# $name: $*"
		echo "$name: 0 passed, 1 failed"
		exit 1
	}
fi

[ "$(id -u)" = 0 ] || die "must run as root"
[ -r "$CKPT_KO" ] || die "$CKPT_KO not found: run 'make modules'"
if [ "$(stat -f -c %T "$CKPT_CGROUP2" 2>/dev/null)" != cgroup2fs ]; then
	mkdir -p "$CKPT_CGROUP2" && mount -t cgroup2 cgroup2 "$CKPT_CGROUP2" ||
		die "cannot mount cgroup2 at $CKPT_CGROUP2"
fi
if ! awk -v m="$CKPT_FREEZER" '
	{ for (i = 7; i <= NF && $i != "-"; i++); }
	$5 == m && $(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)freezer(,|$)/ { f = 1 }
	END { exit !f }' /proc/self/mountinfo; then
	mkdir -p "$CKPT_FREEZER" &&
		mount -t cgroup -o freezer freezer "$CKPT_FREEZER" ||
		die "cannot mount a v1 freezer hierarchy at $CKPT_FREEZER"
fi
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$pid_max" -ge 4194304 ] || echo 4194304 >/proc/sys/kernel/pid_max
if [ -e /sys/module/ckpt ]; then
	rmmod ckpt || die "cannot unload the loaded ckpt"
fi
insmod "$CKPT_KO" || die "insmod $CKPT_KO failed"
[ -c /dev/ckpt ] || die "/dev/ckpt did not appear"
