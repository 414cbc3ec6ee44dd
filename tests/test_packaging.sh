#!/bin/sh
# tests/test_packaging.sh: the operator-facing files.
#
#   - systemd/sipguard.service rates OK or better with
#     `systemd-analyze security --offline=true', and verifies;
#   - systemd/sipguard.sysusers creates the user sipguard;
#   - every man page renders without a groff warning;
#   - every key `sipguard -T' prints is documented in sipguard.conf(5),
#     with the default the code has, and nothing else is documented there;
#   - `make install DESTDIR=... PREFIX=/usr sysconfdir=/etc' installs the
#     binaries, the configuration, the unit, the sysusers file and the
#     man pages where a distribution expects them, and the default
#     PREFIX=/usr/local gets a unit that runs /usr/local/sbin/sipguard.
#
# One line per check, PASS or FAIL; exit 0 if all pass, 1 otherwise.
# Environment: SIPGUARD (default $B/sipguard, B default build), B (the
# build directory `make install' uses), MAKE (default make).
set -u

cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SIPGUARD_SET=${SIPGUARD:+1}
SIPGUARD=${SIPGUARD:-$B/sipguard}
MAKE=${MAKE:-make}
UNIT=systemd/sipguard.service
SYSUSERS=systemd/sipguard.sysusers
MANPAGES="man/sipguard.8 man/sipguard.conf.5 man/sipguardctl.8"
# systemd-analyze security: MEDIUM from 5.0, OK below it (then SAFE
# below 1.0, PERFECT at 0).
OK_BELOW=5.0

fails=0
tmp=$(mktemp -d --suffix=.sgpkg) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The first lines of a log, indented, after a FAIL.
show() { sed -n '1,20s/^/    /p' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---- the build --------------------------------------------------------------------

# Without SIPGUARD, the binaries of $B (built if needed: make install
# would build them anyway).
if [ -z "${SIPGUARD_SET:-}" ] && [ ! -x "$SIPGUARD" ]; then
	if $MAKE -s all >"$tmp/build" 2>&1; then
		pass "build: $SIPGUARD"
	else
		fail "build: make all failed"
		show "$tmp/build"
	fi
fi

# ---- the unit -------------------------------------------------------------------

if ! have systemd-analyze; then
	fail "systemd-analyze not installed (package systemd)"
else
	systemd-analyze security --offline=true "$UNIT" >"$tmp/sec" 2>&1
	line=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\) *\([A-Z][A-Z]*\).*/\1 \2/p' "$tmp/sec")
	score=${line% *}
	label=${line#* }
	if [ -z "$line" ]; then
		fail "systemd-analyze security: no overall exposure level"
		show "$tmp/sec"
	elif awk -v x="$score" -v t="$OK_BELOW" 'BEGIN { exit !(x + 0 < t + 0) }' &&
	    case $label in OK | SAFE | PERFECT) true ;; *) false ;; esac; then
		pass "$UNIT: exposure $score $label (OK or better: below $OK_BELOW)"
	else
		fail "$UNIT: exposure $score $label (want OK or better: below $OK_BELOW)"
		grep '✗' "$tmp/sec" | sed 's/^/    /'
	fi

	# verify needs the binary where ExecStart points: use the built one.
	if [ -x "$SIPGUARD" ]; then
		mkdir "$tmp/unit"
		abs=$(cd "$(dirname "$SIPGUARD")" && pwd)/$(basename "$SIPGUARD")
		sed "s|^ExecStart=/usr/sbin/sipguard|ExecStart=$abs|" "$UNIT" \
		    >"$tmp/unit/sipguard.service"
		if systemd-analyze verify --man=no "$tmp/unit/sipguard.service" \
		    >"$tmp/verify" 2>&1 && ! [ -s "$tmp/verify" ]; then
			pass "$UNIT: systemd-analyze verify is clean"
		else
			fail "$UNIT: systemd-analyze verify"
			show "$tmp/verify"
		fi
	else
		fail "$UNIT: verify needs $SIPGUARD (build it first: make)"
	fi
fi

if ! have systemd-sysusers; then
	fail "systemd-sysusers not installed (package systemd)"
else
	mkdir -p "$tmp/sysroot/etc"
	if systemd-sysusers --root="$tmp/sysroot" "$PWD/$SYSUSERS" \
	    >"$tmp/sysusers" 2>&1 &&
	    grep -q '^sipguard:x:[0-9]*:[0-9]*:.*:/var/lib/sipguard:' \
	    "$tmp/sysroot/etc/passwd" &&
	    grep -q '^sipguard:x:' "$tmp/sysroot/etc/group"; then
		pass "$SYSUSERS: creates user and group sipguard"
	else
		fail "$SYSUSERS: systemd-sysusers did not create sipguard"
		show "$tmp/sysusers"
	fi
fi

# ---- man pages ---------------------------------------------------------------------

if ! have groff; then
	fail "groff not installed (package groff)"
else
	for page in $MANPAGES; do
		if [ ! -f "$page" ]; then
			fail "$page: missing"
			continue
		fi
		# -t: tbl (sipguard.8 has tables); -ww: every warning.
		if groff -t -man -ww -z "$page" >"$tmp/groff" 2>&1 &&
		    ! [ -s "$tmp/groff" ]; then
			pass "$page: renders without warnings"
		else
			fail "$page: groff warnings"
			show "$tmp/groff"
		fi
	done
fi

# ---- every key, with its default ---------------------------------------------------

conf5=man/sipguard.conf.5
if [ ! -x "$SIPGUARD" ]; then
	fail "$conf5: keys: $SIPGUARD not built (make, or set SIPGUARD)"
elif [ ! -f "$conf5" ] || ! have groff; then
	fail "$conf5: keys: page or groff missing"
else
	# An empty file: the defaults, whatever /etc holds.
	: >"$tmp/empty.conf"
	if ! "$SIPGUARD" -T -c "$tmp/empty.conf" >"$tmp/dump" 2>"$tmp/dump.err"; then
		fail "$SIPGUARD -T failed"
		show "$tmp/dump.err"
	else
		# "group.key value", one per key, value normalised.
		awk '
		function norm(v) {
			if (v ~ /^\[ *\]$/) return "empty"
			if (v ~ /^-?[0-9][0-9.eE+-]*$/) return sprintf("%g", v + 0)
			return v
		}
		/^[a-z_]+:$/ { group = substr($0, 1, length($0) - 1); next }
		/^};$/ { group = ""; next }
		/=/ {
			line = $0
			sub(/^[ \t]+/, "", line); sub(/;$/, "", line)
			k = line; sub(/ = .*/, "", k)
			v = line; sub(/^[^=]* = /, "", v)
			print (group != "" ? group "." : "") k, norm(v)
		}' "$tmp/dump" | sort >"$tmp/code"

		# The KEYS section of the page, one paragraph per line (a long
		# line length keeps each paragraph on one line).
		groff -t -man -Tascii -rLL=2000n "$conf5" 2>/dev/null |
		    sed 's/.\x08//g' | awk '
		function norm(v) {
			sub(/[.;,]$/, "", v)
			if (v ~ /^-?[0-9][0-9.eE+-]*$/) return sprintf("%g", v + 0)
			return v
		}
		function flush() {
			if (key == "") return
			d = "?"
			if (match(text, /default ("[^"]*"|[^ ;]+)/)) {
				d = substr(text, RSTART + 8, RLENGTH - 8)
				d = norm(d)
			}
			print key, d
			key = ""
		}
		/^[A-Z]/ { flush(); keys = ($0 == "KEYS"); next }
		!keys { next }
		/^       [a-z_][a-z_0-9.]*( |$)/ {
			flush()
			line = $0; sub(/^ +/, "", line)
			key = line; sub(/ .*/, "", key)
			text = line; sub(/^[^ ]*/, "", text)
			next
		}
		/^              / && key != "" { text = text " " $0; next }
		/^$/ { flush() }
		END { flush() }' | sort >"$tmp/doc"

		cut -d' ' -f1 "$tmp/code" >"$tmp/code.keys"
		cut -d' ' -f1 "$tmp/doc" >"$tmp/doc.keys"
		missing=$(comm -23 "$tmp/code.keys" "$tmp/doc.keys")
		extra=$(comm -13 "$tmp/code.keys" "$tmp/doc.keys")
		nkeys=$(wc -l <"$tmp/code.keys" | tr -d ' ')
		if [ -z "$missing" ] && [ "$nkeys" -gt 0 ]; then
			pass "$conf5: all $nkeys keys of sipguard -T documented"
		else
			fail "$conf5: keys of sipguard -T not documented:" \
			    "$(echo "$missing" | tr '\n' ' ')"
		fi
		if [ -z "$extra" ]; then
			pass "$conf5: documents no key sipguard -T lacks"
		else
			fail "$conf5: documents unknown keys:" \
			    "$(echo "$extra" | tr '\n' ' ')"
		fi
		# Defaults: the page's "default X" against the code's.
		join "$tmp/code" "$tmp/doc" | awk '$2 != $3' >"$tmp/defaults"
		if [ ! -s "$tmp/defaults" ]; then
			pass "$conf5: every default matches sipguard -T"
		else
			fail "$conf5: defaults differ (key, code, page):"
			show "$tmp/defaults"
		fi
	fi
fi

# ---- make install ---------------------------------------------------------------

# Installed where a distribution expects them (DESTDIR=$tmp/root
# PREFIX=/usr sysconfdir=/etc); the unit may go to /lib or /usr/lib.
# The installed unit: under /lib or /usr/lib (empty if neither).
unit_of() {
	for f in "$tmp/root/lib/systemd/system/sipguard.service" \
	    "$tmp/root/usr/lib/systemd/system/sipguard.service"; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
}

check_file() {	# check_file MODE-TEST PATH... : the first that exists
	t=$1
	shift
	for f in "$@"; do
		for g in "$f" "$f.gz"; do
			if [ -e "$tmp/root$g" ]; then
				if test "$t" "$tmp/root$g"; then
					pass "install: $g"
				else
					fail "install: $g (not test $t)"
				fi
				return 0
			fi
		done
	done
	fail "install: missing $*"
	return 1
}

if ! $MAKE -s install DESTDIR="$tmp/root" PREFIX=/usr sysconfdir=/etc \
    >"$tmp/install" 2>&1; then
	fail "make install DESTDIR=... PREFIX=/usr sysconfdir=/etc failed"
	show "$tmp/install"
else
	check_file -x /usr/sbin/sipguard
	check_file -x /usr/sbin/sipguardctl
	check_file -f /etc/sipguard/sipguard.conf
	if check_file -f /lib/systemd/system/sipguard.service \
	    /usr/lib/systemd/system/sipguard.service; then
		u=$(unit_of)
		if grep -qx 'ExecStart=/usr/sbin/sipguard' "$u" &&
		    ! grep -q '@[A-Za-z_]*@' "$u"; then
			pass "install: unit runs /usr/sbin/sipguard"
		else
			fail "install: unit's ExecStart is not /usr/sbin/sipguard"
			grep -n 'Exec\|@' "$u" | sed 's/^/    /'
		fi
	fi
	check_file -f /usr/lib/sysusers.d/sipguard.conf
	check_file -f /usr/share/man/man8/sipguard.8
	check_file -f /usr/share/man/man5/sipguard.conf.5
	check_file -f /usr/share/man/man8/sipguardctl.8
fi

# The default PREFIX: the unit must follow the binary to /usr/local/sbin.
rm -rf "$tmp/root"
if ! $MAKE -s install DESTDIR="$tmp/root" >"$tmp/install2" 2>&1; then
	fail "make install DESTDIR=... (default PREFIX) failed"
	show "$tmp/install2"
else
	u=$(unit_of)
	if [ -n "$u" ] && [ -x "$tmp/root/usr/local/sbin/sipguard" ] &&
	    grep -qx 'ExecStart=/usr/local/sbin/sipguard' "$u"; then
		pass "install (default PREFIX): unit runs /usr/local/sbin/sipguard"
	else
		fail "install (default PREFIX): unit does not run /usr/local/sbin/sipguard"
		[ -n "$u" ] && grep -n 'ExecStart' "$u" | sed 's/^/    /'
	fi
fi

# ---- sipguard -r: progress on a terminal, silence elsewhere -------------
# Two copies of a scenario's capture in one file (4,972 frames): a replay
# long enough to report its progress.
if "$B/sgpcap" write tcp_split "$tmp/one.pcap" > /dev/null &&
    python3 -c "
import sys
a = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(a + a[24:])" "$tmp/one.pcap" "$tmp/two.pcap"
then
	run="'$SIPGUARD' -r '$tmp/two.pcap' --set 'proxy.addresses = [\"192.0.2.1\"]' > /dev/null"
	if script -qc "$run" /dev/null 2>&1 | tr '\r' '\n' |
	    grep -q '^sipguard: 4972 frames, [0-9]* messages/s, 100%'; then
		pass "sipguard -r on a terminal: progress (frames, messages/s, share)"
	else
		fail "sipguard -r on a terminal: no progress line"
	fi
	if sh -c "$run" 2>&1 | grep -q 'messages/s'; then
		fail "sipguard -r not on a terminal: a progress line"
	else
		pass "sipguard -r not on a terminal: no progress line"
	fi
else
	fail "sipguard -r progress: could not make the capture"
fi

# ---- sipguard -t reads the whitelist_file too ------------------------------
: > "$tmp/empty.conf"
printf '203.0.113.0/28 trunk\n198.51.100.7 02:00:5e:00:53:01 peer\n' \
    > "$tmp/wl.good"
printf '203.0.113.0/28\n\n198.51.100.7 02:00:5e:00:53:01\n10.0.0.0/40\n' \
    > "$tmp/wl.bad"
if "$SIPGUARD" -t -c "$tmp/empty.conf" --set "whitelist_file = \"$tmp/wl.good\"" > /dev/null 2>&1
then
	pass "sipguard -t: a good whitelist_file"
else
	fail "sipguard -t: a good whitelist_file refused"
fi
"$SIPGUARD" -t -c "$tmp/empty.conf" --set "whitelist_file = \"$tmp/wl.bad\"" > "$tmp/t.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "whitelist_file $tmp/wl.bad: line 4: \"10.0.0.0/40\" is not an address or CIDR prefix" "$tmp/t.out" &&
    grep -q 'test failed' "$tmp/t.out"; then
	pass "sipguard -t: a bad whitelist_file fails with its file and line"
else
	fail "sipguard -t: a bad whitelist_file (exit $rc)"
	show "$tmp/t.out"
fi

# ---- sipguardctl: help without a daemon, exit statuses -----------------------
CTL=$(dirname "$SIPGUARD")/sipguardctl
nosock=$tmp/no-daemon.sock
"$CTL" -s "$nosock" help > "$tmp/h.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^  whitelist add CIDR' "$tmp/h.out" &&
    grep -q '^exit status: 0 done' "$tmp/h.out"; then
	pass "sipguardctl help with no daemon: the client's list, exit 0"
else
	fail "sipguardctl help with no daemon (exit $rc)"
	show "$tmp/h.out"
fi
"$CTL" -s "$nosock" bindings --help > "$tmp/h.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^  bindings show IDENTITY|IP' "$tmp/h.out" &&
    grep -q 'absolute path the daemon reads' "$tmp/h.out" &&
    ! grep -q 'whitelist\|stats' "$tmp/h.out"; then
	pass "sipguardctl bindings --help with no daemon: its lines only"
else
	fail "sipguardctl bindings --help with no daemon (exit $rc)"
	show "$tmp/h.out"
fi
"$CTL" -s "$nosock" help ping > "$tmp/h.out" 2>&1
rc1=$?
"$CTL" -s "$nosock" help frobnicate > "$tmp/h2.out" 2>&1
rc2=$?
"$CTL" -s "$nosock" stats > "$tmp/h3.out" 2>&1
rc3=$?
if [ "$rc1" -eq 0 ] && grep -q '^  version, ping' "$tmp/h.out" &&
    [ "$rc2" -eq 2 ] && grep -q 'unknown command "frobnicate"' "$tmp/h2.out" &&
    [ "$rc3" -eq 3 ] && grep -q 'is sipguard running' "$tmp/h3.out"; then
	pass "sipguardctl with no daemon: help ping 0, help of no command 2, stats 3"
else
	fail "sipguardctl with no daemon: exits $rc1 $rc2 $rc3 (want 0 2 3)"
	show "$tmp/h2.out"
	show "$tmp/h3.out"
fi

if [ "$fails" -eq 0 ]; then
	echo "test_packaging: all checks passed"
	exit 0
fi
echo "test_packaging: $fails check(s) failed"
exit 1
