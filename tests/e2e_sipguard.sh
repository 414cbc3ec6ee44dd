#!/bin/bash
# e2e_sipguard.sh: sipguard protecting a real Kamailio (the lab of
# tools/lab.sh), SIPp phones registering and calling through it, attacks
# from the attacker's namespace.  Checks that every legitimate
# registration and call completes, that forged messages and a REGISTER
# flood are stopped (the flood by the kernel), and that the daemon stops
# cleanly.  Root only; the lab is taken down on any exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SG=$(realpath "${SIPGUARD:-$ROOT/build/sipguard}")
BDIR=$(dirname "$SG")
CTL=$BDIR/sipguardctl
FLOOD=$BDIR/bench/udpflood
NODE="python3 $ROOT/tests/sipnode.py"
STEP=0
FAIL=0

if [ ! -x "$FLOOD" ] || [ ! -x "$CTL" ]; then
	echo "e2e_sipguard: $FLOOD or $CTL missing: run it through make check"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_sipguard: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi
# shellcheck source=../tools/lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-e2esg.state
TMP=$(mktemp -d --suffix=.sge2e)

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { "$CTL" -s "$TMP/control" "$@"; }
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

cleanup() {
	lab_down >/dev/null 2>&1
	if [ "$FAIL" -gt 0 ]; then
		echo "e2e_sipguard: the daemon's log:"
		sed 's/^/  | /' "$TMP/sg.log" 2>/dev/null | tail -40
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cat > "$TMP/sg.conf" <<EOF
proxy: { addresses = [ "10.99.0.1", "fd99::1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
log: { aggregate = 0; };
training: { duration = 8; };
queue: { idle_warning = 3; };
EOF
# In the proxy's namespace, once Kamailio answers: the queue rules and
# the daemon.  On the way down: SIGTERM first, so it saves and removes
# its nftables table before the lab kills what is left.
lab_sipguard_hooks "$TMP" "$SG" "$TMP/sg.conf"

# ---- registrations and calls through the daemon ----------------------------
check "the lab comes up with sipguard in front of Kamailio" \
    "lab_up >/dev/null 2>&1 && ctl stats >/dev/null"
check "alice registers (401, then 200) through sipguard" \
    "lab_register ua1 alice >/dev/null 2>&1"
check "bob registers" "lab_register ua2 bob >/dev/null 2>&1"
check "alice calls bob: INVITE, 407, INVITE, 180, 200, ACK, BYE, 200" \
    "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1"
check "alice calls carol over IPv6" \
    "lab_call -6 ua1 alice ua2 carol 1 >/dev/null 2>&1"
check "sipguard learned the bindings from Kamailio's 200 OKs" \
    "ctl bindings | grep -q 'alice@lab.example .*02:5a:00:00:00:11 10.99.0.11' && ctl bindings | grep -q 'bob@lab.example .*10.99.0.12'"
check "no legitimate message was dropped (sipguardctl stats)" \
    "ctl -j stats | grep -q '\"dropped\":0,' && ctl -j stats | grep -q '\"vii\":'"

# ---- forged messages ---------------------------------------------------------
lab_exec atk $NODE spoof 10.99.0.11 10.99.0.1 BYE alice forged-1 3
sleep 0.3
check "a forged BYE with alice's IP from the attacker's MAC is dropped" \
    "grep -q 'alarm type=spoof case=ix action=block mac=02:5a:00:00:00:66 ip=10.99.0.11' $TMP/sg.log"
lab_exec atk $NODE send 10.99.0.66 10.99.0.1 INVITE bob forged-2 1
sleep 0.3
check "an INVITE in bob's name from the attacker's own address: masquerade" \
    "grep -q 'case=masquerade action=block mac=02:5a:00:00:00:66 ip=10.99.0.66 .*identity=bob@lab.example' $TMP/sg.log"

# ---- a REGISTER flood, after training -----------------------------------------
for i in $(seq 1 40); do
	ctl -j stats | grep -q '"training":false' && break
	lab_exec ua1 $NODE send 10.99.0.11 10.99.0.1 OPTIONS alice ka-$i \
	    >/dev/null 2>&1
	sleep 0.3
done
check "module II finished its training" \
    "ctl -j stats | grep -q '\"training\":false'"
printf 'REGISTER sip:lab.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.99.0.66:5060;branch=z9hG4bK-fl\r\nFrom: <sip:mallory@lab.example>;tag=1\r\nTo: <sip:mallory@lab.example>\r\nCall-ID: flood@10.99.0.66\r\nCSeq: 1 REGISTER\r\nContact: <sip:mallory@10.99.0.66:5060>\r\nContent-Length: 0\r\n\r\n' > "$TMP/register"
lab_exec atk "$FLOOD" 10.99.0.66 10.99.0.1 5060 "$TMP/register" 1 \
    > "$TMP/sent1"
sleep 0.3
check "the attacker's REGISTER flood raises SS and blocks (m, i)" \
    "grep -q 'alarm type=ss case=- action=block mac=02:5a:00:00:00:66 ip=10.99.0.66' $TMP/sg.log"
check "the attacker is in the kernel's set inet sipguard blk4" \
    "lab_exec proxy nft list set inet sipguard blk4 | grep -q '02:5a:00:00:00:66 . 10.99.0.66'"
before=$(ctl -j stats | json_num received)
lab_exec atk "$FLOOD" 10.99.0.66 10.99.0.1 5060 "$TMP/register" 1 \
    > "$TMP/sent2"
after=$(ctl -j stats | json_num received)
check "the next $(cat "$TMP/sent2") flood packets never reach the queue ($before -> $after)" \
    "[ \"\$(cat $TMP/sent2)\" -gt 1000 ] && [ -n \"\$before\" ] && [ -n \"\$after\" ] && [ \"\$((after - before))\" -lt 10 ]"
vii=$(ctl -j stats | json_num vii)
check "alice still calls bob after the flood, judged by sipguard (vii)" \
    "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1 && [ -n \"\$vii\" ] && [ \"\$(ctl -j stats | json_num vii)\" -gt \"\$vii\" ]"

# ---- a spoofed-source flood: admission in the kernel while DS1 holds --------------
q0=$(ctl -j stats | json_num received)
in0=$(ctl -j stats | json_num inbound)
lab_exec atk $NODE spoofflood 10.99 10.99.0.1 2000 6 > "$TMP/sent3" &
FPID=$!
sleep 3
check "DS1 raised: the kernel's chain admit limits sources neither bound nor whitelisted" \
    "grep -q 'DS1: admission in the kernel on' $TMP/sg.log && lab_exec proxy nft list chain inet sipguard admit | grep -q 'limit rate over'"
check "bound devices are in the kernel's set kn4 (they return before the limit)" \
    "lab_exec proxy nft list set inet sipguard kn4 | grep -q '02:5a:00:00:00:11 . 10.99.0.11'"
check "alice calls bob during the flood" \
    "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1"
wait "$FPID"
q1=$(ctl -j stats | json_num received)
in1=$(ctl -j stats | json_num inbound)
sent3=$(cat "$TMP/sent3")
lim=$(lab_exec proxy nft list chain inet sipguard admit | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "most of the $sent3 spoofed packets never reach the queue ($((q1 - q0)) queued, calls included; ${lim:-?} limited in the kernel)" \
    "[ \"$sent3\" -gt 5000 ] && [ \$((q1 - q0)) -lt \$((sent3 / 4)) ]"
check "none passed unjudged: limited in the kernel + judged inbound >= sent, no queue drop" \
    "[ -n \"$lim\" ] && [ \$((lim + in1 - in0)) -ge \"$sent3\" ] && ctl -j stats | grep -q '\"kernel_dropped\":0,\"user_dropped\":0'"
for i in $(seq 1 90); do
	grep -q 'DS1 clear: admission in the kernel back' "$TMP/sg.log" && break
	sleep 0.5
done
check "DS1 clears: the chain admit is back to its ceiling (50000/s)" \
    "grep -q 'DS1 clear: admission in the kernel back to its ceiling' $TMP/sg.log && lab_exec proxy nft list chain inet sipguard admit | grep -q 'limit rate over 50000/second'"
check "Kamailio is alive" "lab_status >/dev/null 2>&1"

# ---- a firewall reload: nft flush ruleset ----------------------------------------
# What `systemctl restart nftables` does with Debian's /etc/nftables.conf,
# which begins with `flush ruleset`: every table goes, sipguard's and
# iptables-nft's (the queue rules) alike.
lab_exec ua1 $NODE send 10.99.0.11 10.99.0.1 OPTIONS alice pre-flush \
    >/dev/null 2>&1
sleep 0.3
idle0=$(grep -c 'no packet queued for [0-9]* s' "$TMP/sg.log")
lab_exec proxy nft flush ruleset
for i in $(seq 1 20); do
	lab_exec proxy nft list set inet sipguard blk4 2>/dev/null |
	    grep -q '02:5a:00:00:00:66 . 10.99.0.66' && break
	sleep 0.25
done
check "after nft flush ruleset the table inet sipguard is back within 5 s, the attacker's entry in it" \
    "lab_exec proxy nft list set inet sipguard blk4 | grep -q '02:5a:00:00:00:66 . 10.99.0.66' && grep -q 'table inet sipguard was gone' $TMP/sg.log && ctl -j stats | grep -q '\"restored\":1'"
check "... with the bound devices (kn4) and the admission chain at its ceiling" \
    "lab_exec proxy nft list set inet sipguard kn4 | grep -q '02:5a:00:00:00:11 . 10.99.0.11' && lab_exec proxy nft list chain inet sipguard admit | grep -q 'limit rate over 50000/second'"
for i in $(seq 1 30); do
	[ "$(grep -c 'no packet queued for [0-9]* s' "$TMP/sg.log")" -gt "$idle0" ] &&
	    break
	sleep 0.25
done
check "the queue rules went with it: sipguard says no packet is queued (queue.idle_warning)" \
    "[ \"\$(grep -c 'no packet queued for [0-9]* s' $TMP/sg.log)\" -gt $idle0 ] && ctl -j stats | grep -Eq '\"idle\":([3-9]|[1-9][0-9]+)[,}]'"
lab_exec proxy sh "$TMP/rules.sh"
vii=$(ctl -j stats | json_num vii)
check "the rules put back: alice calls bob, judged again (vii), and the log says so" \
    "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1 && [ \"\$(ctl -j stats | json_num vii)\" -gt \"$vii\" ] && grep -q 'packets are queued again' $TMP/sg.log"

# ---- stop ----------------------------------------------------------------------
"$TMP/down.sh" 2>/dev/null
check "sipguard stops on SIGTERM, saves its state, removes its table" \
    "grep -q '^state saved' $TMP/sg.log && ! lab_exec proxy nft list tables | grep -q sipguard"

echo "e2e_sipguard: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
