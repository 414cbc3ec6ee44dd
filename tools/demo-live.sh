#!/bin/bash
# The live half of `make demo': sipguard protecting a real Kamailio in the
# lab (tools/lab.sh) while phones call and an attacker attacks.  Prints
# what each attack did and what the calls did.  Root only; the lab is
# taken down on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
SG=$(realpath "$ROOT/$B/sipguard")
CTL=$ROOT/$B/sipguardctl
NODE="python3 $ROOT/tests/sipnode.py"
EV="python3 $ROOT/tests/evasion.py"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the live part needs root (network namespaces); skipped"
	exit 0
fi
# shellcheck source=lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-demo.state
export LAB_KAM_DEBUG=2		# Kamailio logs every request it acts on
TMP=$(mktemp -d --suffix=.sgdemo)
CALLS=6

cleanup() {
	[ -n "${CALLER:-}" ] && kill "$CALLER" 2>/dev/null
	lab_down >/dev/null 2>&1
	[ -n "${DEMO_LOG:-}" ] && cp "$TMP/sg.log" "$DEMO_LOG"
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ctl() { "$CTL" -s "$TMP/control" "$@"; }
# Did Kamailio act on a request for sip:USER@ (its own log says)?
kamailio_saw() {
	grep -q "req $1 sip:$2@" "$LAB_DIR/kamailio.log" && echo yes || echo no
}
raw6() { # SRC6 NHDRS FILE: one IPv6/UDP frame from the attacker's MAC
	lab_exec atk $EV raw6 eth0 02:5a:00:00:00:66 02:5a:00:00:00:01 \
	    "$1" fd99::1 5060 5060 "$2" "$3"
}
# alarms TYPE [REGEX]: how many alarm lines of TYPE (matching REGEX) so far
alarms() { grep -c "^alarm type=$1 .*${2:-}" "$TMP/sg.log" 2>/dev/null || true; }
say() { printf '%s\n' "$*"; }

cat > "$TMP/sg.conf" <<EOF
proxy: { addresses = [ "10.99.0.1", "fd99::1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 15; };
EOF
lab_sipguard_hooks "$TMP" "$SG" "$TMP/sg.conf"

say ""
say "sipguard live: Kamailio 5.6 (registrar, digest auth) in namespace"
say "sgproxy behind sipguard on NFQUEUE; SIPp phones alice (ua1, 10.99.0.11),"
say "bob and carol (ua2, 10.99.0.12); an attacker (atk, 10.99.0.66) on the"
say "same Ethernet segment."
say ""
lab_up >/dev/null 2>&1 || { say "demo: the lab did not come up"; exit 1; }
lab_register ua1 alice >/dev/null 2>&1
lab_register ua2 bob >/dev/null 2>&1
lab_register -6 ua2 carol >/dev/null 2>&1
say "  registered through sipguard: $(ctl bindings | tail -1)"

# Legitimate calls all along, alice -> bob, one after the other.
(
	ok=0
	for i in $(seq 1 $CALLS); do
		lab_call ua1 alice ua2 bob 2 >/dev/null 2>&1 && ok=$((ok + 1))
	done
	echo "$ok" > "$TMP/calls"
) &
CALLER=$!

say ""
say "  attack                                        what sipguard did"
say "  ------                                        -----------------"
lab_exec atk $NODE spoof 10.99.0.11 10.99.0.1 BYE alice x-$$ 5
sleep 0.5
say "  forged BYE x5, alice's IP, attacker's MAC     $(alarms spoof 'case=ix') alarm(s) case ix, dropped"
lab_exec atk $NODE send 10.99.0.66 10.99.0.1 INVITE bob y-$$ 5 >/dev/null
sleep 0.5
say "  INVITE x5 in bob's name from the attacker     $(alarms spoof 'case=masquerade') alarm(s) case masquerade, dropped"
lab_exec atk $NODE spoof 10.99.0.11 10.99.0.1 REGISTER mallory z-$$ 1
sleep 0.5
say "  REGISTER from alice's IP (hijack)             $(alarms spoof 'case=viii') alarm(s) case viii, dropped"

say "  (the attacker is now listed; an operator lifts that with"
say "   sipguardctl blacklist forget 02:5a:00:00:00:66: $(ctl blacklist forget 02:5a:00:00:00:66))"

# The ways around a monitor (SPEC 1): what Kamailio acts on is judged.
_lab_load_state
say ""
say "  evasion: the same forged BYE, the ways an IDS is walked around"
lab_exec atk $EV tcp-request 10.99.0.66 10.99.0.1 BYE bobtcp alice ev1-$$ - >/dev/null 2>&1
sleep 0.3
say "  whole over TCP (alice's name)                 $(alarms spoof 'call_id=ev1-') alarm case masquerade, dropped; Kamailio acted on it: $(kamailio_saw BYE bobtcp)"
lab_exec atk $EV tcp-request 10.99.0.66 10.99.0.1 BYE bobsplit carol ev2-$$ 25,80 >/dev/null 2>&1
sleep 0.3
say "  in three TCP segments (carol's name)          $(alarms spoof 'call_id=ev2-') alarm case masquerade on the last segment, dropped; Kamailio: $(kamailio_saw BYE bobsplit)"
printf 'BYE sip:bobext@lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::12]:5060;branch=z9hG4bK-ev3\r\nMax-Forwards: 70\r\nFrom: <sip:bob@lab.example>;tag=a\r\nTo: <sip:bob@lab.example>;tag=b\r\nCall-ID: ev3-%s\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n' $$ > "$TMP/bye6"
raw6 fd99::12 12 "$TMP/bye6"
sleep 0.3
say "  behind 12 IPv6 extension headers (ua2's IP)   $(alarms spoof 'call_id=ev3-') alarm case $(grep 'call_id=ev3-' "$TMP/sg.log" | sed -n 's/.*case=\([^ ]*\).*/\1/p' | head -1), dropped; Kamailio: $(kamailio_saw BYE bobext)"
printf 'REGISTER sip:lab.example SIP/2.0\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-hj\r\nMax-Forwards: 70\r\nFrom: <sip:alice@lab.example>;tag=h\r\nTo: <sip:alice@lab.example>\r\nCall-ID: hijack-%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@[fd99::66]:5060>\r\nContent-Length: 0\r\n\r\n' $$ > "$TMP/hj"
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [fd99::66]:5060;branch=z9hG4bK-hj\r\nFrom: <sip:alice@lab.example>;tag=h\r\nTo: <sip:alice@lab.example>;tag=x\r\nCall-ID: hijack-%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@[fd99::66]:5060>;expires=3600\r\nContent-Length: 0\r\n\r\n' $$ > "$TMP/hj200"
raw6 fd99::66 0 "$TMP/hj"
sleep 0.2
raw6 fd99::1 0 "$TMP/hj200"
sleep 0.3
say "  registration hijack: a forged 200 OK from the proxy's address"
say "                                                $(alarms spoof 'case=forged-proxy') alarm case forged-proxy, dropped; alice bound to: $(ctl bindings | awk '/^alice@/ {print $2, $3}' | sort -u | tr '\n' ' ')"
ctl blacklist forget 02:5a:00:00:00:66 >/dev/null

for i in $(seq 1 12); do
	LAB_PASSWORD=guess$i lab_register atk bob >/dev/null 2>&1
done
sleep 0.5
say "  password guessing: 12 wrong passwords for bob $(alarms bruteforce) bruteforce alarm(s); blocked in the kernel:"
lab_exec proxy nft list set inet sipguard blk4 | grep -o '02:5a[^,}]*expires' |
    sed 's/ expires$//; s/^/                                                /'

# Module II trains for 15 s from the first packet.
for i in $(seq 1 60); do
	ctl -j stats | grep -q '"training":false' && break
	sleep 0.5
done
sent=$(lab_exec atk $NODE spoofflood 10.99 10.99.0.1 2000 5)
sleep 0.5
adm=$(ctl -j stats | sed -n 's/.*"ds-admission":\([0-9]*\).*/\1/p')
say "  spoofed-source REGISTER flood, $sent in 5 s   DS1 raised $(alarms ds1 'action=notice') time(s); ${adm:-0} refused by admission"
t0=$(date +%s)
for i in $(seq 1 90); do
	[ "$(alarms ds1 'action=clear')" -gt 0 ] && break
	sleep 0.5
done
say "                                                DS1 cleared $(( $(date +%s) - t0 )) s after the flood ended"
wait "$CALLER"
CALLER=
say ""
say "  legitimate calls alice -> bob during the attacks: $(cat "$TMP/calls") of $CALLS completed"
say ""
say "  sipguardctl stats:"
ctl stats | sed 's/^/    /'
say ""
say "  a few of the alarm lines (syslog; here from -f on stderr):"
grep '^alarm' "$TMP/sg.log" | awk '!seen[$2 $3]++' | head -6 |
    cut -c1-150 | sed 's/^/    /'
say ""
[ "$(cat "$TMP/calls")" -eq "$CALLS" ]
