#!/bin/sh
# test_stall.sh: no worker waits on the main loop.  The daemon holds
# 60,000 bindings (Kamailio's ul.dump, imported at start) while a sender
# keeps its queue busy (2,000 keep-alives a second); meanwhile the state
# file is saved three times (13 MB each: `sipguardctl save'), the
# bindings listed three times, the stats read ten times and the dump
# imported again.  Each worker's longest wait for its lock (held by
# the main loop) and for its verdicts must stay far below what holding
# every worker through a whole save cost (130 ms or more here).  Root
# only; two namespaces made here and removed.
set -u
B=${B:-build}
N=${N:-60000}
ID=$$
S=sgsts$ID
R=sgstr$ID
TMP=$(mktemp -d --suffix=.sgstall)
FAIL=0
STEP=0
# Limits with room for a loaded machine's scheduler (a worker preempted
# shows in both); one page of a save holds a worker under a millisecond.
LOCK_MS=${LOCK_MS:-20}
STALL_MS=${STALL_MS:-60}

if [ "$(id -u)" -ne 0 ]; then
	echo "test_stall: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi

cleanup() {
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null
	[ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { "$B/sipguardctl" -s "$TMP/control" "$@"; }
# A field of `sipguardctl -j stats' (a dotted path).
stat() {
	ctl -j stats | python3 -c "
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split('.'):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)" "$1"
}

ip netns add "$S"
ip netns add "$R"
ip link add "st$ID" type veth peer name "sr$ID"
ip link set "st$ID" netns "$S"
ip link set "sr$ID" netns "$R"
ip -n "$S" addr add 10.95.0.11/24 dev "st$ID"
ip -n "$R" addr add 10.95.0.1/24 dev "sr$ID"
for n in "$S" "$R"; do ip -n "$n" link set lo up; done
ip -n "$S" link set "st$ID" up
ip -n "$R" link set "sr$ID" up
ip netns exec "$R" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
    --queue-num 0
ip netns exec "$R" iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE \
    --queue-num 0

# The proxy's registrations: N subscribers, each at an address of its own.
python3 - "$TMP/ul.json" "$N" <<'PYEOF'
import json, sys
aors = []
for k in range(int(sys.argv[2])):
    aors.append({"Info": {"AoR": "u%d@example.com" % k, "Contacts": [
        {"Contact": {"Address": "sip:u%d@10.%d.%d.%d:5060" % (
            k, 100 + (k >> 16), (k >> 8) & 255, k & 255),
            "Expires": 3600}}]}})
json.dump({"jsonrpc": "2.0", "result": {"Domains": [{"Domain": {
    "Domain": "location", "AoRs": aors}}]}, "id": 1}, open(sys.argv[1], "w"))
PYEOF
mkdir "$TMP/state"
cat > "$TMP/sg.conf" <<EOC
mode = "detect";
proxy: { addresses = [ "10.95.0.1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 1; };
startup: { learn = 0; };
bindings: { import_file = "$TMP/ul.json"; };
nft: { enabled = false; };
EOC
ip netns exec "$R" "$B/sipguard" -f -c "$TMP/sg.conf" 2> "$TMP/sg.log" &
SPID=$!
n=0
while [ ! -S "$TMP/control" ] && [ "$n" -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "the daemon is up with the proxy's $N registrations imported" \
    "[ \"\$(stat tables.bindings.0)\" -ge $N ]"

# Keep-alives (CRLF CRLF): judged cheaply, so the worker reads a batch
# every half millisecond and any wait for its lock shows.
printf '\r\n\r\n' > "$TMP/ka"
ip netns exec "$S" "$B/bench/udpflood" 10.95.0.11 10.95.0.1 5060 \
    "$TMP/ka" 8 0 2000 > "$TMP/sent" &
FPID=$!
sleep 2
r0=$(stat queue.received)
check "the worker judges the keep-alives before the saves" "[ $r0 -gt 0 ]"
t0=$(date +%s%N)
saved=0
for k in 1 2 3; do
	ctl save > /dev/null && saved=$((saved + 1))
	for j in 1 2 3; do ctl stats > /dev/null; done
	ctl bindings list > "$TMP/list"
done
# The proxy's dump again, at run time: every contact looked up (known).
ctl bindings import "$TMP/ul.json" > "$TMP/import"
t1=$(date +%s%N)
ctl stats > /dev/null
wait "$FPID"
FPID=
sleep 0.3
lines=$(grep -c '^b ' "$TMP/state/state" 2>/dev/null || echo 0)
check "three saves of $lines bindings in $(( (t1 - t0) / 1000000 )) ms" \
    "[ $saved -eq 3 ] && [ $lines -ge $N ]"
check "module II's baseline saved too" "[ -s $TMP/state/baseline ]"
check "the bindings listed whole meanwhile" \
    "grep -q '^$N binding(s)' $TMP/list"
check "the dump imported again at run time: $N known" \
    "grep -q ' $N known' $TMP/import"
r1=$(stat queue.received)
check "the worker judged $((r1 - r0)) keep-alives meanwhile" \
    "[ $((r1 - r0)) -gt 8000 ]"
wait_us=$(stat queue.lock_wait_us)
stall_us=$(stat queue.stall_us)
echo "# longest wait for the lock ${wait_us} us, for verdicts ${stall_us} us"
check "no batch waited ${LOCK_MS} ms or more for its worker's lock" \
    "[ -n \"$wait_us\" ] && awk -v w=$wait_us -v m=$LOCK_MS 'BEGIN { exit !(w < m * 1000) }'"
check "no batch waited ${STALL_MS} ms or more for its verdicts" \
    "[ -n \"$stall_us\" ] && awk -v w=$stall_us -v m=$STALL_MS 'BEGIN { exit !(w < m * 1000) }'"
kill "$SPID"
wait "$SPID" 2>/dev/null
SPID=
check "the daemon stopped cleanly and saved again" \
    "[ \$(grep -c '^b ' $TMP/state/state) -ge $N ]"

echo "test_stall: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
