#!/bin/sh
# tests/test_deb.sh: the Debian package (debian/).
#
#   - `dpkg-buildpackage -us -uc -b' builds it, in a scratch copy: the
#     committed tree (git archive HEAD) with debian/ as it is in the working
#     tree, so neither the working tree nor build/ is touched, a half-made
#     edit elsewhere in the tree cannot break the package test, and two
#     runs at once cannot collide;
#   - the build leaves nothing git would see in that copy;
#   - the changelog's upstream version is SG_VERSION;
#   - `dpkg-deb -c' lists the binaries, the unit, the sysusers file, the
#     man pages and the configuration, which DEBIAN/conffiles names;
#   - the maintainer scripts create the user and neither start nor enable
#     the daemon;
#   - `lintian' reports no error (its warnings are shown, not failed);
#   - installed into a scratch root (dpkg --root, scripts chrootless, so
#     nothing outside it is touched), every file is there, the user
#     sipguard exists, the unit is not enabled; a purge removes the files,
#     the configuration and /var/lib/sipguard.
#
# One line per check, PASS or FAIL; exit 0 if all pass, 1 otherwise.
# Needs dpkg-dev, debhelper, lintian and the build dependencies
# (tools/deps.sh installs them); runs as root or not.  DEB_BUILD_OPTIONS
# is passed on (nocheck skips the unit tests the package build runs).
set -u

cd "$(dirname "$0")/.." || exit 1

fails=0
tmp=$(mktemp -d --suffix=.sgdeb) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The last lines of a log, indented, after a FAIL.
show() { tail -n 20 "$1" | sed 's/^/    /'; }
have() { command -v "$1" >/dev/null 2>&1; }
finish() {
	if [ "$fails" -eq 0 ]; then
		echo "test_deb: all checks passed"
		exit 0
	fi
	echo "test_deb: $fails check(s) failed"
	exit 1
}

for t in dpkg-buildpackage dpkg-deb dh lintian git; do
	have "$t" || fail "$t not installed (make deps)"
done
[ "$fails" -eq 0 ] || finish

# ---- the build --------------------------------------------------------------------

src=$tmp/sipguard
mkdir "$src"
if git archive HEAD | tar -xf - -C "$src" &&
    rm -rf "$src/debian" && cp -R debian "$src/debian"; then
	pass "scratch copy: HEAD with the working tree's debian/"
else
	fail "scratch copy: git archive HEAD failed"
	finish
fi
# A throwaway repository over the copy: what git would see after the
# build is what the build left behind.
(cd "$src" && git init -q && git add -A) >"$tmp/git" 2>&1 ||
    fail "scratch copy: git init"

start=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	fail "dpkg-buildpackage -us -uc -b"
	show "$tmp/build"
	finish
fi

left=$(cd "$src" && git ls-files -o --exclude-standard && git diff --name-only)
if [ -z "$left" ]; then
	pass "build leaves nothing git sees (.gitignore)"
else
	fail "build leaves files git sees:"
	echo "$left" | sed -n '1,20s/^/    /p'
fi

version=$(cd "$src" && dpkg-parsechangelog -S Version)
sg_version=$(sed -n 's/^#define[[:space:]]*SG_VERSION[[:space:]]*"\(.*\)".*/\1/p' \
    "$src/include/sipguard.h")
if [ -n "$sg_version" ] && [ "${version%-*}" = "$sg_version" ]; then
	pass "debian/changelog $version: upstream version is SG_VERSION"
else
	fail "debian/changelog $version, SG_VERSION \"$sg_version\""
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$tmp/sipguard_${version}_$arch.deb
changes=$tmp/sipguard_${version}_$arch.changes
if [ ! -f "$deb" ]; then
	fail "no $(basename "$deb")"
	find "$tmp" -maxdepth 1 -name "*.deb" | sed 's/^/    /'
	finish
fi

# ---- what it holds ----------------------------------------------------------------

dpkg-deb -c "$deb" >"$tmp/contents"
# in_deb MODE PATH: PATH (without ./) listed, with a mode starting MODE.
in_deb() {
	if awk -v m="$1" -v p="./$2" '$6 == p && index($1, m) == 1 { f = 1 }
	    END { exit !f }' "$tmp/contents"; then
		pass "dpkg-deb -c: /$2"
	else
		fail "dpkg-deb -c: no /$2 (mode $1)"
	fi
}
in_deb -rwxr-xr-x usr/sbin/sipguard
in_deb -rwxr-xr-x usr/sbin/sipguardctl
in_deb -rw-r--r-- lib/systemd/system/sipguard.service
in_deb -rw-r--r-- usr/lib/sysusers.d/sipguard.conf
in_deb -rw-r--r-- usr/share/man/man8/sipguard.8.gz
in_deb -rw-r--r-- usr/share/man/man8/sipguardctl.8.gz
in_deb -rw-r--r-- usr/share/man/man5/sipguard.conf.5.gz
in_deb -rw-r--r-- etc/sipguard/sipguard.conf
in_deb -rw-r--r-- etc/logrotate.d/sipguard
in_deb -rw-r--r-- usr/share/doc/sipguard/copyright

dpkg-deb -e "$deb" "$tmp/DEBIAN"
if [ "$(sort "$tmp/DEBIAN/conffiles" 2>/dev/null | tr '\n' ' ')" = \
    "/etc/logrotate.d/sipguard /etc/sipguard/sipguard.conf " ]; then
	pass "DEBIAN/conffiles: the configuration and the logrotate file"
else
	fail "DEBIAN/conffiles is not the configuration and the logrotate file"
	sed 's/^/    /' "$tmp/DEBIAN/conffiles" 2>/dev/null
fi

depends=$(dpkg-deb -f "$deb" Depends)
case $depends in
*libosip2*libsodium*systemd-sysusers*)
	pass "Depends: shlibs and sysusers" ;;
*)
	fail "Depends: $depends" ;;
esac

if grep -q 'systemd-sysusers.* sipguard\.conf' "$tmp/DEBIAN/postinst"; then
	pass "postinst: systemd-sysusers sipguard.conf"
else
	fail "postinst does not run systemd-sysusers sipguard.conf"
fi
# Installing starts nothing: the only deb-systemd-invoke is the
# try-restart of an upgrade (a running daemon stays running).  Installing
# enables nothing: `deb-systemd-helper enable' only under the test that
# the package was installed before (dh_installsystemd --no-enable: it
# re-enables what the operator had enabled; without it, `was-enabled' is
# true on a first install).
if ! grep -h 'deb-systemd-invoke' "$tmp/DEBIAN/postinst" \
    "$tmp/DEBIAN/preinst" 2>/dev/null | grep -qv 'try-restart' &&
    ! grep -Eq 'systemctl .*(start|enable)' "$tmp/DEBIAN/postinst" &&
    awk '/deb-systemd-helper debian-installed/ { guard = 1 }
    /deb-systemd-helper enable/ && !guard { bad = 1 }
    END { exit bad }' "$tmp/DEBIAN/postinst"; then
	pass "postinst neither starts nor enables sipguard.service"
else
	fail "postinst starts or enables sipguard.service"
	grep -nE 'invoke|enable|start' "$tmp/DEBIAN/postinst" |
	    sed 's/^/    /'
fi

# ---- lintian ----------------------------------------------------------------------

lintian --pedantic "$changes" >"$tmp/lintian" 2>"$tmp/lintian.err"
rc=$?
nerr=$(grep -c '^E:' "$tmp/lintian")
if [ "$rc" -eq 0 ] && [ "$nerr" -eq 0 ]; then
	pass "lintian: no error ($(grep -c '^W:' "$tmp/lintian") warning(s))"
else
	fail "lintian: $nerr error(s), exit status $rc"
	grep -v 'running with root privileges' "$tmp/lintian.err" |
	    sed 's/^/    /'
fi
grep -E '^[EWIP]:' "$tmp/lintian" | sed 's/^/    lintian /'

# ---- installed into a scratch root ----------------------------------------------

# The maintainer scripts run outside a chroot (the scratch root has no
# shell) with DPKG_ROOT set: systemd-sysusers --root and deb-systemd-helper
# honour it.  systemctl is stubbed, so no daemon-reload can reach the host
# whatever runs there.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" \
    "$root/etc" "$tmp/bin"
: >"$root/var/lib/dpkg/status"
printf '#!/bin/sh\necho "systemctl $*" >>"%s/systemctl.log"\n' "$tmp" \
    >"$tmp/bin/systemctl"
chmod +x "$tmp/bin/systemctl"
sgdpkg() {
	PATH=$tmp/bin:$PATH dpkg --root="$root" --log="$tmp/dpkg.log" \
	    --force-not-root --force-script-chrootless --force-depends \
	    --force-unsafe-io "$@"
}

if sgdpkg -i "$deb" >"$tmp/install" 2>&1; then
	pass "dpkg --root=SCRATCH -i"
else
	fail "dpkg --root=SCRATCH -i"
	show "$tmp/install"
fi
for f in /usr/sbin/sipguard /usr/sbin/sipguardctl; do
	if [ -x "$root$f" ]; then
		pass "installed: $f"
	else
		fail "installed: no $f"
	fi
done
for f in /lib/systemd/system/sipguard.service \
    /usr/lib/sysusers.d/sipguard.conf /usr/share/man/man8/sipguard.8.gz \
    /usr/share/man/man8/sipguardctl.8.gz \
    /usr/share/man/man5/sipguard.conf.5.gz /etc/sipguard/sipguard.conf; do
	if [ -f "$root$f" ]; then
		pass "installed: $f"
	else
		fail "installed: no $f"
	fi
done
if cmp -s "$root/etc/sipguard/sipguard.conf" "$src/conf/sipguard.conf"; then
	pass "installed: sipguard.conf is conf/sipguard.conf"
else
	fail "installed: sipguard.conf differs from conf/sipguard.conf"
fi
if grep -qx 'ExecStart=/usr/sbin/sipguard' \
    "$root/lib/systemd/system/sipguard.service"; then
	pass "installed: unit runs /usr/sbin/sipguard"
else
	fail "installed: unit's ExecStart is not /usr/sbin/sipguard"
fi
if dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' \
    sipguard 2>/dev/null | grep -q '^ /etc/sipguard/sipguard.conf '; then
	pass "installed: dpkg records /etc/sipguard/sipguard.conf as a conffile"
else
	fail "installed: /etc/sipguard/sipguard.conf not a conffile"
fi
if grep -q '^sipguard:x:[0-9]*:[0-9]*:.*:/var/lib/sipguard:' \
    "$root/etc/passwd" 2>/dev/null &&
    grep -q '^sipguard:x:' "$root/etc/group" 2>/dev/null; then
	pass "installed: postinst created user and group sipguard"
else
	fail "installed: no user sipguard in the scratch root's /etc/passwd"
fi
wants=$(find "$root/etc/systemd" -name 'sipguard*' 2>/dev/null)
if [ -z "$wants" ]; then
	pass "installed: sipguard.service not enabled"
else
	fail "installed: enabled: $wants"
fi

# The state the unit's StateDirectory= would have made: purge removes it.
mkdir -p "$root/var/lib/sipguard" && : >"$root/var/lib/sipguard/state"
if sgdpkg --purge sipguard >"$tmp/purge" 2>&1; then
	pass "dpkg --root=SCRATCH --purge"
else
	fail "dpkg --root=SCRATCH --purge"
	show "$tmp/purge"
fi
left=$(cd "$root" && find usr/sbin lib/systemd usr/lib/sysusers.d usr/share \
    etc/sipguard var/lib/sipguard -name '*sipguard*' 2>/dev/null)
if [ -z "$left" ]; then
	pass "purged: no file of the package, configuration or state left"
else
	fail "purged: left: $(echo "$left" | tr "\n" " ")"
fi

finish
