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

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the live part needs root (network namespaces); skipped"
	exit 0
fi
# shellcheck source=lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-demo.state
TMP=$(mktemp -d /tmp/sgdemo.XXXXXX)
CALLS=6

cleanup() {
	[ -n "${CALLER:-}" ] && kill "$CALLER" 2>/dev/null
	lab_down >/dev/null 2>&1
	[ -n "${DEMO_LOG:-}" ] && cp "$TMP/sg.log" "$DEMO_LOG"
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ctl() { "$CTL" -s "$TMP/control" "$@"; }
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
