#!/bin/bash
# e2e_evasion.sh: the ways around an IPS (SPEC 1, "nothing the proxy acts
# on goes unjudged"), tried live against sipguard in front of the lab's
# real Kamailio, whose own log (debug 2: one "req METHOD URI" line per
# request it acts on) is the proof of what got through.  Each forged
# message goes whole and the evasive ways: split across TCP segments,
# behind a long IPv6 extension header chain, as a forged answer from the
# proxy's own address.  The same legitimate messages cut the same ways
# must work: a REGISTER in two segments is learned, a call with an SDP
# larger than a segment completes over TCP, a TCP connection open across
# a daemon restart keeps working.  Root only; the lab is taken down on
# any exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SG=$(realpath "${SIPGUARD:-$ROOT/build/sipguard}")
BDIR=$(dirname "$SG")
CTL=$BDIR/sipguardctl
EV="python3 $ROOT/tests/evasion.py"
STEP=0
FAIL=0

if [ ! -x "$CTL" ]; then
	echo "e2e_evasion: $CTL missing: run it through make check"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_evasion: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi
# shellcheck source=../tools/lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-evasion.state
export LAB_KAM_DEBUG=2
TMP=$(mktemp -d --suffix=.sgev)

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { "$CTL" -s "$TMP/control" "$@"; }
klog() { cat "$LAB_DIR/kamailio.log"; }
# Kamailio acted on a request to sip:USER@ (its request_route ran).
kam_saw() { klog | grep -q "req $1 sip:$2@"; }
sglog() { grep -q "$1" "$TMP/sg.log"; }

cleanup() {
	if [ "$FAIL" -gt 0 ]; then
		echo "e2e_evasion: the daemon's log:"
		sed 's/^/  | /' "$TMP/sg.log" 2>/dev/null | tail -40
		echo "e2e_evasion: Kamailio's requests and the TCP call:"
		grep -h 'req \|rpl ' "$LAB_DIR/kamailio.log" 2>/dev/null |
		    sed 's/^/  | /' | tail -30
		sed 's/^/  | /' "$TMP/call.out" 2>/dev/null
	fi
	lab_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cat > "$TMP/sg.conf" <<EOF
proxy: { addresses = [ "10.99.0.1", "fd99::1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
log: { aggregate = 0; };
training: { duration = 3600; };
EOF
lab_sipguard_hooks "$TMP" "$SG" "$TMP/sg.conf"

check "the lab comes up with sipguard in front of Kamailio (UDP and TCP)" \
    "lab_up >/dev/null 2>&1 && ctl stats >/dev/null"
_lab_load_state
check "alice registers over UDP" "lab_register ua1 alice >/dev/null 2>&1"

# ---- legitimate messages, cut the ways an attacker cuts them -----------------
check "carol's REGISTER in two TCP segments: 200 from Kamailio" \
    "lab_exec ua1 $EV tcp-register 10.99.0.11 10.99.0.1 carol secret 150 >/dev/null"
check "... and sipguard learned the binding from the 200 over TCP" \
    "ctl bindings | grep -q 'carol@lab.example .*02:5a:00:00:00:11 10.99.0.11'"

# bob answers on UDP (a SIPp UAS); carol calls him over TCP, the INVITE
# (SDP of 3 KB, more than a segment) cut in four.
_LAB_AF=4
__lab_register ua2 bob 5060 5060 3600 >/dev/null 2>&1
_lab_sipp sgua2 10.99.0.12 "ev-uas" uas "" 5060 30 -s bob -mp 16000 \
    -key sdp_af 4 -key sdp_ip 10.99.0.12 >/dev/null 2>&1 &
UAS=$!
for i in $(seq 1 50); do
	_lab_port_busy sgua2 5060 && break
	sleep 0.1
done
check "carol calls bob over TCP, INVITE with a 3 KB SDP in four segments: 200, ACK, BYE 200" \
    "lab_exec ua1 $EV tcp-call 10.99.0.11 10.99.0.1 carol secret bob 700,1400,2100 3000 > $TMP/call.out 2>&1"
wait "$UAS" 2>/dev/null
check "... judged once each, no TCP segment dropped" \
    "ctl -j stats | grep -q '\"dropped\":0,'"

# A connection open across a restart of the daemon keeps working.
lab_exec ua1 $EV tcp-keep 10.99.0.11 10.99.0.1 alice 4 1.5 > "$TMP/keep.out" 2>&1 &
KEEP=$!
sleep 2
lab_exec proxy "$TMP/down.sh" >/dev/null 2>&1
lab_exec proxy setsid -f "$SG" -f -c "$TMP/sg.conf" >> "$TMP/sg.log" 2>&1 < /dev/null
for i in $(seq 1 50); do
	[ -S "$TMP/control" ] && ctl stats >/dev/null 2>&1 && break
	sleep 0.1
done
wait "$KEEP"
KRC=$?
check "a TCP connection open across a daemon restart keeps working ($(tr '\n' ' ' < "$TMP/keep.out"))" \
    "[ $KRC -eq 0 ]"

# ---- forged messages over TCP, whole and split --------------------------------
lab_exec atk $EV tcp-request 10.99.0.66 10.99.0.1 BYE bobwhole alice ev-1 - >/dev/null 2>&1
check "a forged BYE (alice's identity, the attacker's address) whole over TCP: dropped" \
    "sglog 'case=masquerade.*ip=10.99.0.66' && ! kam_saw BYE bobwhole"
lab_exec atk $EV tcp-request 10.99.0.66 10.99.0.1 BYE bobsplit alice ev-2 30,90 >/dev/null 2>&1
check "the same BYE in three TCP segments: Kamailio never acts on it" \
    "! kam_saw BYE bobsplit"
lab_exec atk $EV tcp-request 10.99.0.66 10.99.0.1 REGISTER mallory mallory ev-4 30,90 >/dev/null 2>&1
check "control: a REGISTER split the same way reaches Kamailio (the path works)" \
    "kam_saw REGISTER mallory"

# ---- IPv6 extension headers ------------------------------------------------------
bye6() {
	printf 'BYE sip:%s@lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [%s]:5060;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\nFrom: <sip:%s@lab.example>;tag=a\r\nTo: <sip:bob@lab.example>;tag=b\r\nCall-ID: %s\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n' \
	    "$1" "$2" "$1" "$3" "$1"
}
# This kernel delivers UDP behind at most 12 Destination Options headers
# (measured: 13 and more are discarded, Ip6InDiscards); sipguard reads
# up to 128 and drops what lies beyond.
for n in 12 40; do
	# a new identity each time, so an alarm, not a blacklist hit
	who=alice
	[ $n = 40 ] && who=carol
	bye6 bobext$n fd99::11 $who > "$TMP/bye6"
	lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 \
	    fd99::11 fd99::1 5060 5060 $n "$TMP/bye6"
	sleep 0.3
	check "a forged BYE with alice's IPv6 address behind $n extension headers: judged and dropped" \
	    "sglog 'type=spoof .*ip=fd99::11 .*call_id=bobext$n ' && ! kam_saw BYE bobext$n"
done
bye6 bobext200 fd99::11 alice > "$TMP/bye6b"
lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::11 fd99::1 5060 5060 140 "$TMP/bye6b"
sleep 0.3
check "behind 140 extension headers: undecodable, dropped" \
    "sglog 'case=undecodable' && ! kam_saw BYE bobext200"
printf 'REGISTER sip:lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-ext\r\nMax-Forwards: 70\r\nFrom: <sip:extcheck@lab.example>;tag=a\r\nTo: <sip:extcheck@lab.example>\r\nCall-ID: extcheck\r\nCSeq: 1 REGISTER\r\nContact: <sip:extcheck@[fd99::66]:5060>\r\nContent-Length: 0\r\n\r\n' > "$TMP/reg6"
lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::66 fd99::1 5060 5060 12 "$TMP/reg6"
sleep 0.3
check "control: the kernel delivers past 12 extension headers (a REGISTER reaches Kamailio)" \
    "klog | grep -q 'req REGISTER sip:lab.example from fd99::66'"

# ---- IPv6 fragments (the lab's rules load conntrack: nf_defrag) ------------
check "the daemon says how fragments reach it (nf_defrag)" \
    "sglog '^fragments: '"
bye6 bobfrag fd99::11 bob > "$TMP/byefrag"
lab_exec atk $EV raw6frag eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::11 fd99::1 5060 5060 96 "$TMP/byefrag"
sleep 0.3
check "a forged BYE in two IPv6 fragments: reassembled, judged and dropped" \
    "sglog 'type=spoof .*ip=fd99::11 .*call_id=bobfrag ' && ! kam_saw BYE bobfrag"
printf 'REGISTER sip:fragcheck@lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-frag\r\nMax-Forwards: 70\r\nFrom: <sip:fragcheck@lab.example>;tag=a\r\nTo: <sip:fragcheck@lab.example>\r\nCall-ID: fragcheck\r\nCSeq: 1 REGISTER\r\nContact: <sip:fragcheck@[fd99::66]:5060>\r\nContent-Length: 0\r\n\r\n' > "$TMP/regfrag"
lab_exec atk $EV raw6frag eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::66 fd99::1 5060 5060 96 "$TMP/regfrag"
sleep 0.3
check "control: a REGISTER in two IPv6 fragments reaches Kamailio" \
    "kam_saw REGISTER fragcheck"

# ---- a registration hijack through a forged answer from the proxy ----------
printf 'REGISTER sip:lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-hj\r\nMax-Forwards: 70\r\nFrom: <sip:alice@lab.example>;tag=h\r\nTo: <sip:alice@lab.example>\r\nCall-ID: hijack\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@[fd99::66]:5060>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n' > "$TMP/hj"
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-hj\r\nFrom: <sip:alice@lab.example>;tag=h\r\nTo: <sip:alice@lab.example>;tag=x\r\nCall-ID: hijack\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@[fd99::66]:5060>;expires=3600\r\nContent-Length: 0\r\n\r\n' > "$TMP/hj200"
lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::66 fd99::1 5060 5060 0 "$TMP/hj"
sleep 0.2
lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::1 fd99::1 5060 5060 0 "$TMP/hj200"
sleep 0.3
check "a forged 200 OK from the proxy's address: dropped as forged-proxy" \
    "sglog 'type=spoof case=forged-proxy.*mac=02:5a:00:00:00:66'"
check "... and nothing learned: alice is not bound to the attacker" \
    "! ctl bindings | grep 'alice@lab.example' | grep -q '02:5a:00:00:00:66'"
printf 'INVITE sip:bobhijack@lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-hi\r\nMax-Forwards: 70\r\nFrom: <sip:alice@lab.example>;tag=h\r\nTo: <sip:bobhijack@lab.example>\r\nCall-ID: hijack-call\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@[fd99::66]:5060>\r\nContent-Length: 0\r\n\r\n' > "$TMP/hjinv"
lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 fd99::66 fd99::1 5060 5060 0 "$TMP/hjinv"
sleep 0.3
check "the attacker's INVITE as alice afterwards is dropped" \
    "! kam_saw INVITE bobhijack"

# ---- the protected service is intact ----------------------------------------------
check "alice still calls bob over UDP" "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1"
check "Kamailio is alive" "lab_status >/dev/null 2>&1"

echo "e2e_evasion: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
