#!/bin/bash
# tests/e2e_lab.sh: self-check of the network lab (tools/lab.sh) with the
# real components: Kamailio as registrar/proxy, SIPp as phones.
#
#   lab up; REGISTER alice (ua1) and bob (ua2); call alice -> bob; a wrong
#   password must be refused; REGISTER carol (ua2) and call alice -> carol
#   over IPv6; lab down; nothing of the lab left behind.
#
# One PASS/FAIL line per step; exit 0 only if every step passed. Root only.
# The lab is taken down on every exit (trap), also when a step fails; the
# logs of a failed run are kept in /tmp/tmp.*.sglab-e2e (path printed).
# Refuses to run when a lab is already up (it would not be ours to remove).

# shellcheck disable=SC2317  # functions called through trap and step
set -u
if [ "$(id -u)" != 0 ]; then
	echo "e2e_lab: SKIPPED: must run as root (network namespaces)" >&2
	exit 77
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=$ROOT/tools/lab.sh
STATE=${LAB_STATE:-/tmp/sglab.state}
NETNS="sgproxy sgua1 sgua2 sgatk sgbr"
unset LAB_PASSWORD LAB_HOOK_UP LAB_HOOK_DOWN

for ns in $NETNS; do
	if [ -e "/run/netns/$ns" ] || [ -e "$STATE" ]; then
		echo "e2e_lab: a lab is already up (or left over): run '$LAB down' first" >&2
		echo "FAIL preflight"
		exit 1
	fi
done

LOG=$(mktemp -d --suffix=.sglab-e2e) || exit 1
fails=0
passes=0
lab_was_up=0
labdir=

cleanup() {
	local rc=$?
	if [ "$lab_was_up" = 1 ]; then
		# keep the lab's own logs of a failed run before they are deleted
		if [ "$fails" != 0 ] && [ -n "$labdir" ] && [ -d "$labdir" ] && [ ! -e "$LOG/labdir" ]; then
			cp -a "$labdir" "$LOG/labdir" 2>/dev/null
		fi
		"$LAB" down >>"$LOG/cleanup.log" 2>&1
	fi
	if [ "$fails" = 0 ] && [ "$rc" = 0 ]; then
		rm -rf -- "$LOG"
	else
		echo "e2e_lab: logs kept in $LOG"
	fi
}
trap cleanup EXIT
trap 'echo "e2e_lab: interrupted"; fails=$((fails + 1)); exit 1' INT TERM HUP

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME CMD...: run CMD, PASS if it exits 0
step() {
	local name=$1 t0 rc f
	shift
	f=$LOG/$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').log
	t0=$(now)
	"$@" >"$f" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passes=$((passes + 1))
		printf 'PASS %-44s %5ss\n' "$name" "$(since "$t0")"
	else
		fails=$((fails + 1))
		printf 'FAIL %-44s %5ss (rc %s)\n' "$name" "$(since "$t0")" "$rc"
		sed 's/^/     | /' "$f" | tail -n 15
	fi
	return $rc
}

# expect_fail NAME CMD...: PASS if CMD exits non-zero
expect_fail() {
	local name=$1
	shift
	step "$name" sh -c '! "$@"' sh "$@"
}

# nothing of the lab survives `down`
nothing_left() {
	local ns bad=0
	for ns in $NETNS; do
		if [ -e "/run/netns/$ns" ]; then
			echo "namespace $ns still there"
			bad=1
		fi
	done
	if [ -e "$STATE" ]; then
		echo "$STATE still there"
		bad=1
	fi
	if [ -n "$labdir" ] && [ -e "$labdir" ]; then
		echo "$labdir still there"
		bad=1
	fi
	# ours: every lab process names the lab directory or tests/lab/ in its
	# command line (other people's kamailio/sipp are none of our business)
	if [ -n "$labdir" ] && pgrep -af -- "$labdir"; then
		echo "lab processes still running"
		bad=1
	fi
	if pgrep -af -- "$ROOT/tests/lab/"; then
		echo "lab SIPp processes still running"
		bad=1
	fi
	return "$bad"
}

t_all=$(now)
if step "lab up" "$LAB" up; then
	lab_was_up=1
	labdir=$(sed -n 's/^LAB_DIR=//p' "$STATE" 2>/dev/null)
	step "register alice from ua1 (IPv4)" "$LAB" register ua1 alice
	step "register bob from ua2 (IPv4)" "$LAB" register ua2 bob
	step "call alice(ua1) -> bob(ua2), 2 s (IPv4)" "$LAB" call ua1 alice ua2 bob 2
	expect_fail "wrong password refused (401 again)" \
		env LAB_PASSWORD=not-the-secret "$LAB" register ua1 alice
	expect_fail "unknown user refused" "$LAB" register atk mallory
	step "register carol from ua2 (IPv6)" "$LAB" register -6 ua2 carol
	step "call alice(ua1) -> carol(ua2), 1 s (IPv6)" "$LAB" call -6 ua1 alice ua2 carol 1
	step "kamailio still running" "$LAB" status
else
	lab_was_up=1 # a partial up still needs its down
	labdir=$(sed -n 's/^LAB_DIR=//p' "$STATE" 2>/dev/null)
	echo "SKIP the other steps: the lab did not come up"
fi
if [ $fails != 0 ] && [ -n "$labdir" ] && [ -d "$labdir" ]; then
	cp -a "$labdir" "$LOG/labdir" 2>/dev/null
fi
step "lab down" "$LAB" down && lab_was_up=0
step "nothing of the lab left" nothing_left

echo "e2e_lab: $passes passed, $fails failed in $(since "$t_all") s"
if [ $fails = 0 ]; then
	echo "PASS e2e_lab"
	exit 0
fi
echo "FAIL e2e_lab"
exit 1
