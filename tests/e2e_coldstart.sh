#!/bin/bash
# e2e_coldstart.sh: sipguard started in front of a Kamailio that already
# holds registrations (the first deployment, or a start without the
# state file).  The phones register with Kamailio while no daemon reads
# the queue (--queue-bypass lets them through); then sipguard starts
# cold.  With the start-up learning window (startup.learn, default
# 3600 s) their calls complete from the first second, each phone is
# learned from the 200 Kamailio gives its authenticated INVITE, and a
# forger with no binding is alarmed (action=notice) while one forging a
# learned identity is dropped; with startup.learn = 0 the same call is
# dropped as case b, as it was before the window existed.  Last, with
# startup.learn = 0 and Kamailio's ul.dump imported (bindings.import_file)
# alice's call completes with no case b, her MAC is pinned by her first
# message, and a message as alice from her IP with the attacker's MAC is
# dropped as ix.  Root only; the lab is taken down on any exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SG=$(realpath "${SIPGUARD:-$ROOT/build/sipguard}")
CTL=$(dirname "$SG")/sipguardctl
NODE="python3 $ROOT/tests/sipnode.py"
STEP=0
FAIL=0

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_coldstart: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi
# shellcheck source=../tools/lab.sh
. "$ROOT/tools/lab.sh"
export LAB_STATE=/tmp/sglab-e2ecold.state
# Calls without registering first: the phones registered before sipguard.
export LAB_CALL_NOREG=1
TMP=$(mktemp -d --suffix=.sgcold)

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { "$CTL" -s "$TMP/control" "$@"; }

cleanup() {
	stop_sg
	lab_down >/dev/null 2>&1
	if [ "$FAIL" -gt 0 ]; then
		echo "e2e_coldstart: the daemon's log:"
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
EOF
# The lab's hooks, less the daemon: the queue rules go in, nothing reads
# the queue, and --queue-bypass lets every packet through.
lab_sipguard_hooks "$TMP" "$SG" "$TMP/sg.conf"
sed -i '/^setsid/,$d' "$TMP/up.sh"

# start_sg [--set ...]: a cold start (no state file) in the proxy's
# namespace; stop_sg: SIGTERM, as systemd stops it.
start_sg() {
	rm -rf "$TMP/state" "$TMP/control"
	lab_exec proxy setsid -f "$SG" -f -c "$TMP/sg.conf" "$@" \
	    >> "$TMP/sg.log" 2>&1 < /dev/null
	for _ in $(seq 1 50); do
		[ -S "$TMP/control" ] && ctl stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
stop_sg() {
	pkill -TERM -f "$SG -f -c $TMP/sg.conf" 2>/dev/null || return 0
	for _ in $(seq 1 30); do
		pgrep -f "$SG -f -c $TMP/sg.conf" >/dev/null || return 0
		sleep 0.1
	done
}

# ---- the proxy knows its phones before sipguard does -----------------------
check "the lab comes up, queue rules in place, no daemon reading them" \
    "lab_up >/dev/null 2>&1"
check "alice and bob register with Kamailio while nothing judges" \
    "lab_register ua1 alice >/dev/null 2>&1 && lab_register ua2 bob >/dev/null 2>&1"

# ---- a cold start with the learning window (the default) -------------------
check "sipguard starts cold and says it opens the start-up window" \
    "start_sg && grep -q 'cold start (no state): for 3600 s' $TMP/sg.log"
calls=0
for i in 1 2 3; do
	lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1 && calls=$((calls + 1))
	lab_call ua2 bob ua1 alice 1 >/dev/null 2>&1 && calls=$((calls + 1))
done
check "6 calls between the two phones from the first second: $calls completed" \
    "[ $calls -eq 6 ]"
check "their first requests were case b, let through with a notice" \
    "grep -q 'case=b action=notice mac=02:5a:00:00:00:11 ip=10.99.0.11' $TMP/sg.log"
check "both learned from Kamailio's 200 to their authenticated INVITEs" \
    "ctl bindings | grep -q 'alice@lab.example .*02:5a:00:00:00:11 10.99.0.11' && ctl bindings | grep -q 'bob@lab.example .*10.99.0.12'"
check "nothing legitimate dropped (sipguardctl stats)" \
    "ctl -j stats | grep -q '\"dropped\":0,'"

# ---- forgers during the window ------------------------------------------------
lab_exec atk $NODE send 10.99.0.66 10.99.0.1 INVITE carol cold-forged-1 1
sleep 0.3
check "a forger with no binding (as carol) is alarmed, not dropped: notice" \
    "grep -q 'case=b action=notice mac=02:5a:00:00:00:66 ip=10.99.0.66 .*identity=carol@lab.example' $TMP/sg.log"
# Kamailio answers an OPTIONS to itself 200 before any authentication
# (tests/lab/kamailio.cfg, as its default configuration does): junk
# credentials in carol's name on one must not teach carol's binding.
lab_exec atk env SIPNODE_RURI=sip:10.99.0.1 \
    SIPNODE_AUTH='Digest username="carol", realm="lab.example", nonce="junk", uri="sip:10.99.0.1", response="00000000000000000000000000000000"' \
    $NODE send 10.99.0.66 10.99.0.1 OPTIONS carol cold-forged-3 1
sleep 0.3
check "junk credentials on an OPTIONS Kamailio answers 200 unchecked teach nothing" \
    "ctl bindings | grep -q 'alice@lab.example' && ! ctl bindings | grep -q 'carol@lab.example'"
# An OPTIONS to a user Kamailio challenges (407), then one to itself on
# the same Call-ID with junk credentials, answered 200 unchecked.
lab_exec atk $NODE send 10.99.0.66 10.99.0.1 OPTIONS carol cold-forged-4 1
lab_exec atk env SIPNODE_RURI=sip:10.99.0.1 SIPNODE_CSEQ=2 \
    SIPNODE_AUTH='Digest username="carol", realm="lab.example", nonce="junk", uri="sip:10.99.0.1", response="00000000000000000000000000000000"' \
    $NODE send 10.99.0.66 10.99.0.1 OPTIONS carol cold-forged-4 1
sleep 0.3
check "... nor after a challenged OPTIONS on the same Call-ID (only an INVITE teaches)" \
    "! ctl bindings | grep -q 'carol@lab.example'"
lab_exec atk $NODE send 10.99.0.66 10.99.0.1 BYE alice cold-forged-2 1
sleep 0.3
check "one forging learned alice is dropped: masquerade, blocked" \
    "grep -q 'case=masquerade action=block mac=02:5a:00:00:00:66 ip=10.99.0.66 .*identity=alice@lab.example' $TMP/sg.log"
stop_sg

# ---- the same cold start without the window ------------------------------------
check "sipguard starts cold with startup.learn = 0" \
    "start_sg --set startup.learn=0"
check "alice's call is dropped as case b, as before the window existed" \
    "! lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1 && grep -q 'case=b action=block mac=02:5a:00:00:00:11 ip=10.99.0.11' $TMP/sg.log"
stop_sg

# ---- the same cold start, Kamailio's registrations imported ----------------------
# ul.dump through jsonrpcs's FIFO (tests/lab/kamailio.cfg), as `kamctl rpc
# ul.dump' asks it: a request naming a reply FIFO in fifo_reply_dir (a
# name with a dot is refused: "Forbidden reply fifo filename").
kam_rpc() {
	local dir reply
	dir=$(sed -n 's/^LAB_DIR=//p' "$LAB_STATE" | head -n 1)
	reply="sgcold_reply_$$"
	rm -f "$dir/$reply"
	mkfifo -m 600 "$dir/$reply" || return 1
	printf '{"jsonrpc":"2.0","method":"%s","reply_name":"%s","id":1}\n' \
	    "$1" "$reply" > "$dir/kamailio_rpc.fifo" &
	timeout 5 cat "$dir/$reply"
	local rc=$?
	rm -f "$dir/$reply"
	return $rc
}
check "Kamailio's ul.dump (jsonrpcs) as JSON lists alice and bob" \
    "kam_rpc ul.dump > $TMP/ul.json && grep -q '\"Contacts\"' $TMP/ul.json && grep -q '\"alice\"' $TMP/ul.json && grep -q '\"bob\"' $TMP/ul.json"
L=$(wc -l < "$TMP/sg.log")
check "sipguard starts cold, startup.learn = 0, and imports both contacts" \
    "start_sg --set startup.learn=0 --set 'bindings.import_file=\"$TMP/ul.json\"' --set 'bindings.import_domain=\"lab.example\"' && grep -q 'bindings imported from $TMP/ul.json (kamailio): 2 contacts, 2 new' $TMP/sg.log"
check "alice's imported binding waits for its MAC" \
    "ctl bindings | grep -q 'alice@lab.example .*none 10.99.0.11'"
check "alice's call completes" "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1"
check "no case b since the import" \
    "! tail -n +$((L + 1)) $TMP/sg.log | grep -q 'case=b '"
check "her MAC is pinned by her first message (and bob's by his answer)" \
    "ctl bindings | grep -q 'alice@lab.example .*02:5a:00:00:00:11 10.99.0.11' && ctl bindings | grep -q 'bob@lab.example .*02:5a:00:00:00:12 10.99.0.12'"
lab_exec atk $NODE spoof 10.99.0.11 10.99.0.1 MESSAGE alice cold-imp-forged 1
sleep 0.3
check "a MESSAGE as alice from her IP but the attacker's MAC is dropped: ix" \
    "tail -n +$((L + 1)) $TMP/sg.log | grep -q 'case=ix action=[a-z]* mac=02:5a:00:00:00:66 ip=10.99.0.11 .*identity=alice@lab.example'"
check "nothing legitimate dropped: only the forgery" \
    "ctl -j stats | grep -q '\"dropped\":1,'"
stop_sg

# ---- the same, imported at run time: sipguardctl bindings import ------------------
L=$(wc -l < "$TMP/sg.log")
check "sipguard starts cold, startup.learn = 0, nothing imported" \
    "start_sg --set startup.learn=0 && ! ctl bindings | grep -q 'alice@lab.example'"
check "sipguardctl bindings import FILE DOMAIN: Kamailio's ul.dump, 2 of 2 contacts" \
    "ctl bindings import $TMP/ul.json lab.example | grep -q '^imported 2 of 2 contacts (kamailio)' && grep -q 'bindings: imported from $TMP/ul.json (kamailio): 2 contacts, 2 new' $TMP/sg.log"
check "alice's call completes, no case b since the import" \
    "lab_call ua1 alice ua2 bob 1 >/dev/null 2>&1 && ! tail -n +$((L + 1)) $TMP/sg.log | grep -q 'case=b '"
check "Kamailio is alive" "lab_status >/dev/null 2>&1"

echo "e2e_coldstart: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
