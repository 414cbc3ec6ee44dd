#!/bin/bash
# e2e_differential.sh: sipguard's idea of SIP against Kamailio's.  One
# request written many ways (version case, SP or HTAB, header name case,
# compact forms, order, folding, LF line ends, 5 KB of padding before the
# identity headers, ...) and payloads that are not SIP, each sent twice
# through sipguard to the lab's Kamailio: forged (alice's identity from
# the attacker's address) and legitimate (from alice's own phone).  With
# Kamailio's log (debug 2: one "req" line per request its script runs)
# as the judge of what it acts on:
#   - no forged variant ever reaches Kamailio's script;
#   - every legitimate variant Kamailio acts on was judged by sipguard
#     (accepted as case vii, counted);
#   - a legitimate variant Kamailio would act on is not dropped by
#     sipguard (checked in a second lab without sipguard: what Kamailio
#     does with the variant when nothing stands in front of it);
#   - every payload that is not SIP is dropped (not-sip, or malformed
#     when it starts like a request), even from a registered phone.
# Root only; the lab is taken down on any exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SG=$(realpath "${SIPGUARD:-$ROOT/build/sipguard}")
BDIR=$(dirname "$SG")
CTL=$BDIR/sipguardctl
VAR="python3 $ROOT/tests/variants.py"
STEP=0
FAIL=0

if [ ! -x "$CTL" ]; then
	echo "e2e_differential: $CTL missing: run it through make check"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_differential: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi
# shellcheck source=../tools/lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-diff.state
export LAB_KAM_DEBUG=2
TMP=$(mktemp -d --suffix=.sgdiff)

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
ctl() { "$CTL" -s "$TMP/control" "$@"; }
kam_saw() { grep -q "req OPTIONS sip:$1@" "$LAB_DIR/kamailio.log"; }
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

cleanup() {
	if [ "$FAIL" -gt 0 ]; then
		echo "e2e_differential: the daemon's log:"
		sed 's/^/  | /' "$TMP/sg.log" 2>/dev/null | tail -30
	fi
	lab_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# 1. Kamailio alone: which variants does its script run on?
if ! lab_up >/dev/null 2>&1; then
	no "the lab comes up without sipguard"
	exit 1
fi
_lab_load_state
n=0
for v in $($VAR list); do
	n=$((n + 1))
	lab_exec ua1 $VAR send "$v" 10.99.0.11 10.99.0.1 alice "bare$n"
done
sleep 1
n=0
for v in $($VAR list); do
	n=$((n + 1))
	kam_saw "bare$n" && echo "$v" >> "$TMP/kamailio-acts"
done
lab_down >/dev/null 2>&1
ok "Kamailio alone acts on $(wc -l < "$TMP/kamailio-acts") of $n variants ($(tr '\n' ' ' < "$TMP/kamailio-acts"))"

# 2. The same through sipguard.
cat > "$TMP/sg.conf" <<EOF
proxy: { addresses = [ "10.99.0.1", "fd99::1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
log: { aggregate = 0; };
training: { duration = 3600; };
EOF
lab_sipguard_hooks "$TMP" "$SG" "$TMP/sg.conf"
if ! lab_up >/dev/null 2>&1 || ! ctl stats >/dev/null; then
	no "the lab comes up with sipguard"
	exit 1
fi
_lab_load_state
lab_register ua1 alice >/dev/null 2>&1 || no "alice registers"

n=0
for v in $($VAR list); do
	n=$((n + 1))
	case $v in
	sip-*)
		lab_exec atk $VAR send "$v" 10.99.0.66 10.99.0.1 alice "f$n"
		before=$(ctl -j stats | json_num vii)
		lab_exec ua1 $VAR send "$v" 10.99.0.11 10.99.0.1 alice "l$n"
		sleep 0.3
		after=$(ctl -j stats | json_num vii)
		if kam_saw "f$n"; then
			no "$v: the forged one reached Kamailio"
		else
			ok "$v: the forged one was dropped"
		fi
		if kam_saw "l$n"; then
			if [ "${after:-0}" -gt "${before:-0}" ]; then
				ok "$v: Kamailio acted on the legitimate one, judged by sipguard (vii)"
			else
				no "$v: Kamailio acted on the legitimate one, not judged as vii"
			fi
		elif grep -qx "$v" "$TMP/kamailio-acts"; then
			no "$v: sipguard dropped a legitimate message Kamailio acts on"
		else
			ok "$v: Kamailio does not act on it anyway"
		fi
		;;
	junk-*)
		before=$(ctl -j stats | json_num dropped)
		lab_exec ua1 $VAR send "$v" 10.99.0.11 10.99.0.1 alice "f$n"
		sleep 0.2
		after=$(ctl -j stats | json_num dropped)
		if [ "${after:-0}" -gt "${before:-0}" ]; then
			ok "$v: dropped (not-sip or malformed), even from a bound phone"
		else
			no "$v: not dropped (${before:-?} -> ${after:-?})"
		fi
		;;
	esac
done

echo "e2e_differential: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
