#!/bin/bash
# check-packages.sh: the packaging test (`make check-packages`).  As root:
#   0. the version agrees everywhere; lintian is clean
#   1. build ckpt-dkms and ckpt-tools (`make deb`), install them with apt
#   2. DKMS built and installed ckpt.ko for every installed 6.1/6.12 kernel
#      with headers, and refuses a kernel outside that range
#   3. per kernel, boot the test VM and load the DKMS-installed module
#      (modprobe), run the selftests' smoke subset (the `session` group)
#      against it and `ckpt-user check` (its module line must be ok)
#   4. purge both packages: no module, DKMS tree, udev rule or binary left
#   5. `make install DESTDIR=... PREFIX=/usr`, build ckpt.ko from the
#      installed source with plain kbuild for each kernel, `make uninstall`
# Cleans up after itself (purges the packages, removes its temp dir) even on
# failure.  Last line: "check-packages: N passed, N failed"; exit 1 on failure.
#
#   tools/check-packages.sh            everything (needs `make tools` first)
#   tools/check-packages.sh --in-vm    the guest half of step 3 (vmtest/run)
#
# Environment: KVERS (kernels to test, default: every installed 6.1.x and
# 6.12.x with headers), CKPT_PKG_VM_TIMEOUT (seconds per VM, default 300).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
top=$PWD
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# check DESCRIPTION COMMAND...: one assertion
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
say() { echo "# check-packages: $*"; }

# ---- the guest half of step 3 ----------------------------------------------
if [ "${1:-}" = --in-vm ]; then
	kver=$(uname -r)
	ko=$(modinfo -n ckpt 2>/dev/null)
	say "$kver: modprobe resolves ckpt to ${ko:-nothing}"
	check "$kver: ckpt resolves to the DKMS module under /lib/modules/$kver/updates" \
		test "${ko#/lib/modules/"$kver"/updates/}" != "$ko"
	check "$kver: modprobe ckpt" modprobe ckpt
	check "$kver: /dev/ckpt is there" test -c /dev/ckpt
	modprobe -r ckpt
	check "$kver: modprobe -r ckpt" test ! -e /sys/module/ckpt
	# The smoke subset, against the DKMS build (run-in-vm.sh insmods CKPT_KO).
	check "$kver: selftests 'session' group on the DKMS module" \
		env CKPT_KO="$ko" tools/selftests/run-in-vm.sh session
	modprobe ckpt
	out=$(ckpt-user check 2>&1)
	rc=$?
	echo "$out"
	say "$kver: ckpt-user check exited $rc"
	check "$kver: ckpt-user check: module line ok (ABI matches)" \
		grep -Eq '^ +ckpt\.ko \(/dev/ckpt\) +ok +ABI ' <<<"$out"
	check "$kver: ckpt-user check: ready" test "$rc" = 0
	check "$kver: rmmod ckpt" rmmod ckpt
	echo "in-vm: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
fi

# ---- host ----------------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "check-packages: must run as root"; echo "check-packages: 0 passed, 1 failed"; exit 1; }
t0=$(date +%s)
version=$(sed -n 's/^VERSION := //p' Makefile)
kvers=${KVERS:-$(ls -d /lib/modules/*/build 2>/dev/null |
	sed -n 's|/lib/modules/\(6\.1\.[^/]*\)/build|\1|p; s|/lib/modules/\(6\.12\.[^/]*\)/build|\1|p' | sort -V)}
pkgs="ckpt-dkms ckpt-tools"
deb=$top/build/deb
vmout=$top/build/check-packages
tmp=$(mktemp -d /tmp/ckpt-packages.XXXXXX)
export DEBIAN_FRONTEND=noninteractive

# known to dpkg in any state but "purged"?
known() {
	local s
	s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)
	[ -n "$s" ] && [ "${s% not-installed}" = "$s" ]
}
purge() {
	local p
	for p in $pkgs; do
		known "$p" || continue
		apt-get purge -y -qq "$p" >/dev/null 2>&1 || dpkg --purge "$p" >/dev/null 2>&1
	done
	return 0
}
cleanup() {
	purge
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

summary() {
	say "done in $(($(date +%s) - t0)) s"
	echo "check-packages: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

say "version $version, kernels: $(echo $kvers)"
check "kernels to test found (6.1.x and 6.12.x with headers)" test -n "$kvers"
if known ckpt-dkms || known ckpt-tools; then
	say "ckpt packages already installed: purging them first"
	purge
fi

# ---- 0. version, 1. build and install ------------------------------------------
check "dkms.conf PACKAGE_VERSION is $version" grep -qx "PACKAGE_VERSION=\"$version\"" dkms.conf
check "debian/changelog version is $version" test "$(dpkg-parsechangelog -SVersion)" = "$version"
check "user/CMakeLists.txt version is $version" grep -q "^project(ckpt-user VERSION $version " user/CMakeLists.txt

say "make deb"
if ! make -s deb >"$tmp/deb.log" 2>&1; then
	tail -30 "$tmp/deb.log"
	bad "make deb"
	summary
fi
ok "make deb"
dkms_deb=$deb/ckpt-dkms_${version}_all.deb
tools_deb=$deb/ckpt-tools_${version}_amd64.deb
check "ckpt-dkms and ckpt-tools .debs in build/deb" test -f "$dkms_deb" -a -f "$tools_deb"

lintian --pedantic "$deb/ckpt_${version}_amd64.changes" >"$tmp/lintian.log" 2>&1
grep -v '^running with root privileges' "$tmp/lintian.log"
check "lintian --pedantic: no errors or warnings" \
	bash -c "! grep -Eq '^[EW]: ' '$tmp/lintian.log'"

say "apt-get install the two packages (DKMS builds the module for each kernel)"
if ! apt-get install -y -qq "$dkms_deb" "$tools_deb" >"$tmp/install.log" 2>&1; then
	tail -40 "$tmp/install.log"
	bad "apt-get install ckpt-dkms ckpt-tools"
	summary
fi
ok "apt-get install ckpt-dkms ckpt-tools"

# ---- 2. DKMS -----------------------------------------------------------------
# (dkms's readelf warns about the kernel's missing .comment section: noise)
status=$(dkms status ckpt 2>/dev/null)
echo "$status" | sed 's/^/  dkms status: /'
for k in $kvers; do
	check "dkms status: ckpt/$version installed for $k" \
		grep -q "^ckpt/$version, $k, [^:]*: installed\$" <<<"$(grep -F "ckpt/$version, $k, " <<<"$status")"
	ko=$(ls /lib/modules/"$k"/updates/dkms/ckpt.ko* 2>/dev/null | head -1)
	check "$k: ${ko:-/lib/modules/$k/updates/dkms/ckpt.ko*} exists" test -n "$ko"
	[ -n "$ko" ] && check "$k: the module's vermagic is $k" \
		test "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$k"
	check "$k: depmod knows it (modules.dep)" \
		grep -q '^updates/dkms/ckpt\.ko[^:]*:' /lib/modules/"$k"/modules.dep
done
check "/usr/bin/ckpt-user from ckpt-tools" test -x /usr/bin/ckpt-user
check "udev rule /lib/udev/rules.d/60-ckpt.rules" test -f /lib/udev/rules.d/60-ckpt.rules

# BUILD_EXCLUSIVE_KERNEL: a 6.13 kernel (fake: a copy of a real headers
# tree's version named 6.13) is refused by DKMS before any compiling.
k1=$(set -- $kvers; echo "${1:-}")
if [ -n "$k1" ]; then
	fake=6.13.0-ckptfake-amd64
	out=$(dkms build -m ckpt -v "$version" -k "$fake" \
		--kernelsourcedir "/lib/modules/$k1/build" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  dkms: /'
	check "dkms build for $fake is refused (BUILD_EXCLUSIVE_KERNEL, status 77)" test "$rc" = 77
	check "no ckpt build was attempted for $fake" test ! -e "/var/lib/dkms/ckpt/$version/$fake"
fi

# dkms uninstall and install by hand, on one kernel: the module goes away
# and comes back (apt used add/build/install; purge will use remove).
if [ -n "$k1" ]; then
	dkms uninstall -m ckpt -v "$version" -k "$k1" >"$tmp/dkms-un.log" 2>&1
	check "dkms uninstall for $k1" test $? = 0
	check "$k1: no ckpt.ko in updates/ after dkms uninstall" \
		test -z "$(ls /lib/modules/"$k1"/updates/dkms/ckpt.ko* 2>/dev/null)"
	dkms install -m ckpt -v "$version" -k "$k1" >"$tmp/dkms-in.log" 2>&1
	check "dkms install for $k1 again" test $? = 0
	check "$k1: ckpt.ko back in updates/" \
		test -n "$(ls /lib/modules/"$k1"/updates/dkms/ckpt.ko* 2>/dev/null)"
fi

# ---- 3. the VM, per kernel -----------------------------------------------------
for k in $kvers; do
	say "$k: booting the VM on the DKMS-installed module"
	rm -rf "$vmout/$k"
	vmtest/run --kver "$k" --out "$vmout/$k" --timeout "${CKPT_PKG_VM_TIMEOUT:-300}" \
		-- tools/check-packages.sh --in-vm >"$tmp/vm.log" 2>&1
	vrc=$?
	grep -E '^(ok|FAIL): ' "$vmout/$k/output.log" 2>/dev/null | sed 's/^/  [vm] /'
	p=$(grep -c '^ok: ' "$vmout/$k/output.log" 2>/dev/null)
	f=$(grep -c '^FAIL: ' "$vmout/$k/output.log" 2>/dev/null)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$vrc" = 0 ]; then
		ok "$k: VM verdict: $(cat "$vmout/$k/verdict" 2>/dev/null)"
	else
		tail -30 "$tmp/vm.log"
		bad "$k: VM verdict: $(cat "$vmout/$k/verdict" 2>/dev/null || echo none) (logs in $vmout/$k)"
	fi
done

# ---- 4. purge --------------------------------------------------------------------
say "apt-get purge ckpt-dkms ckpt-tools"
if apt-get purge -y -qq ckpt-dkms ckpt-tools >"$tmp/purge.log" 2>&1; then
	ok "apt-get purge ckpt-dkms ckpt-tools"
else
	tail -20 "$tmp/purge.log"
	bad "apt-get purge ckpt-dkms ckpt-tools"
fi
gone() { ! known "$1"; }
for p in $pkgs; do
	check "dpkg: $p is purged (no config files either)" gone "$p"
done
left=$(ls -d /lib/modules/*/updates/dkms/ckpt.ko* /usr/src/ckpt-* /var/lib/dkms/ckpt \
	/lib/udev/rules.d/60-ckpt.rules /etc/udev/rules.d/60-ckpt.rules /usr/bin/ckpt-user \
	/usr/share/man/man1/ckpt-user.1.gz /usr/share/doc/ckpt-dkms /usr/share/doc/ckpt-tools 2>/dev/null)
[ -z "$left" ] || echo "$left" | sed 's/^/  left: /'
check "nothing left: module files, DKMS tree, udev rule, binary, man page, docs" test -z "$left"
check "dkms status has no ckpt" test -z "$(dkms status ckpt 2>/dev/null)"
for k in $kvers; do
	check "$k: modules.dep no longer lists ckpt" \
		bash -c "! grep -q 'ckpt\.ko' /lib/modules/$k/modules.dep"
done

# ---- 5. make install; plain kbuild on the installed source ---------------------
dest=$tmp/dest
say "make install DESTDIR=$dest PREFIX=/usr"
if make -s install DESTDIR="$dest" PREFIX=/usr >"$tmp/make-install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	tail -20 "$tmp/make-install.log"
	bad "make install DESTDIR=... PREFIX=/usr"
fi
src=$dest/usr/src/ckpt-$version
for f in usr/bin/ckpt-user usr/share/man/man1/ckpt-user.1 lib/udev/rules.d/60-ckpt.rules \
	usr/include/linux/ckpt.h usr/src/ckpt-$version/dkms.conf \
	usr/src/ckpt-$version/kmod/Kbuild usr/src/ckpt-$version/uapi/linux/ckpt.h; do
	check "installed $f" test -f "$dest/$f"
done
for k in $kvers; do
	say "$k: make -C /lib/modules/$k/build M=$src/kmod modules"
	rm -f "$src"/kmod/ckpt.ko
	if make -s -j2 -C "/lib/modules/$k/build" M="$src/kmod" modules >"$tmp/kbuild.log" 2>&1; then
		ok "$k: plain kbuild of the installed source"
	else
		tail -20 "$tmp/kbuild.log"
		bad "$k: plain kbuild of the installed source"
	fi
	check "$k: its ckpt.ko is built for $k" \
		test "$(modinfo -F vermagic "$src/kmod/ckpt.ko" 2>/dev/null | cut -d' ' -f1)" = "$k"
	make -s -C "/lib/modules/$k/build" M="$src/kmod" clean >/dev/null 2>&1
done
if make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1; then
	ok "make uninstall DESTDIR=... PREFIX=/usr"
else
	tail -20 "$tmp/uninstall.log"
	bad "make uninstall DESTDIR=... PREFIX=/usr"
fi
left=$(find "$dest" ! -type d)
[ -z "$left" ] || echo "$left" | sed 's/^/  left: /'
check "make uninstall removed every file install put there" test -z "$left"

summary
