#!/bin/sh
# test_nfq_fold.sh: batch verdicts (capture_nfq.c folds a run of equal
# verdicts into one NFQNL_MSG_VERDICT_BATCH) never decide a packet the
# reader has not judged, and never another verdict than the judged one.
# A sender floods numbered datagrams through an NFQUEUE (fail-closed, no
# bypass) read by tests/nfqfold, which accepts and drops them in runs of
# uneven lengths; the receiver behind the queue must get exactly the
# numbers nfqfold judged "accept": a packet swept by a batch before it
# was read arrives unjudged (or is judged later, and its verdict refused:
# errors), a judged drop swept into an accepting batch arrives, a judged
# accept swept into a dropping one is missing.  Root only; two
# namespaces made here and removed.
set -u
B=${B:-build}
N=${N:-30000}
ID=$$
S=sgfos$ID
R=sgfor$ID
TMP=$(mktemp -d --suffix=.sgfold)
FAIL=0
STEP=0

if [ "$(id -u)" -ne 0 ]; then
	echo "test_nfq_fold: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi

cleanup() {
	[ -n "${QPID:-}" ] && kill -9 "$QPID" 2>/dev/null
	[ -n "${RPID:-}" ] && kill -9 "$RPID" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

ip netns add "$S"
ip netns add "$R"
ip link add "fo$ID" type veth peer name "fp$ID"
ip link set "fo$ID" netns "$S"
ip link set "fp$ID" netns "$R"
ip -n "$S" addr add 10.96.0.11/24 dev "fo$ID"
ip -n "$R" addr add 10.96.0.1/24 dev "fp$ID"
for n in "$S" "$R"; do ip -n "$n" link set lo up; done
ip -n "$S" link set "fo$ID" up
ip -n "$R" link set "fp$ID" up
ip netns exec "$R" iptables -A INPUT -p udp --dport 5070 -j NFQUEUE \
    --queue-num 0

# The receiver: every number that arrives, until 2 s of silence (at most
# 60 s); a receive buffer for all of them (SO_RCVBUFFORCE: root).
ip netns exec "$R" python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 256 << 20)
s.bind(('10.96.0.1', 5070))
s.settimeout(2)
got = []
t0 = time.time()
while time.time() - t0 < 60:
    try:
        b = s.recv(256)
    except socket.timeout:
        if got:
            break
        continue
    got.append(int(b.split()[1]))
open(sys.argv[1], 'w').write(''.join('%d\n' % n for n in got))
" "$TMP/received" &
RPID=$!
ip netns exec "$R" "$B/tests/nfqfold" 0 > "$TMP/accepted" \
    2> "$TMP/nfqfold.err" &
QPID=$!
sleep 0.5

# The sender: N numbered datagrams as fast as Python sends them, so that
# packets queue up behind the ones being judged.
ip netns exec "$S" python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.96.0.11', 5071))
for n in range(int(sys.argv[1])):
    s.sendto(b'fold %d ' % n + b'x' * 100, ('10.96.0.1', 5070))
" "$N"
wait "$RPID"
RPID=
kill "$QPID"; wait "$QPID"
QPID=

set -- $(cat "$TMP/nfqfold.err")
judged=$2 accepted=$4 errors=$6 messages=$8 twice=${10}
received=$(wc -l < "$TMP/received")
sort "$TMP/received" > "$TMP/r.sorted"
sort "$TMP/accepted" > "$TMP/a.sorted"
unjudged=$(comm -23 "$TMP/r.sorted" "$TMP/a.sorted" | wc -l)
missing=$(comm -13 "$TMP/r.sorted" "$TMP/a.sorted" | wc -l)
echo "# sent $N, judged $judged ($accepted accepted) in $messages verdict" \
    "messages, received $received"
check "the reader judged most of the flood" "[ $judged -ge $((N / 2)) ]"
# How much folds depends on how many packets each read finds waiting
# (a run ends with its batch): a third of the messages on a quiet
# machine, more under load.  Without folding, one a packet.
check "runs were folded into batch verdicts (fewer messages than packets)" \
    "[ $messages -lt $((judged * 9 / 10)) ]"
check "no verdict refused by the kernel (none for an entry gone)" \
    "[ $errors -eq 0 ]"
check "no packet judged twice" "[ $twice -eq 0 ]"
check "nothing received that was not judged accept ($unjudged)" \
    "[ $unjudged -eq 0 ]"
check "everything judged accept received ($missing missing)" \
    "[ $missing -eq 0 ]"
echo "1..$STEP"
[ "$FAIL" -eq 0 ]
