#!/bin/sh
# e2e_cluster.sh: sipguard nodes share their blacklist and bindings
# through a real redis-server (issue 14).  Network namespaces made here
# on one bridge: Redis (an ACL user, no persistence), nodes A, B and C, an
# attacker, a victim and a phone, each daemon with its own configuration,
# state directory and control socket.  Shows: an entry listed at A reaches B within a second
# (and lives in Redis with its TTL), into B's kernel set: an attacker's
# own datagrams are dropped at B, and so are its forgeries of a victim's
# address, while the victim's own datagrams still pass (SPEC 6 across
# nodes); `blacklist del' at B removes it at A
# (and a tombstone is left); Redis killed: both daemons keep running and
# `cluster' says DOWN; an entry added at A meanwhile reaches B once Redis
# is back (reconnect, republication, resync); a node started later reads
# what is live.  Bindings: a phone P registered through A (a test
# registrar behind A, A and B on segment "lan") sends an INVITE through B:
# accepted at B as case vii (B's counters), a forgery of P's address and
# identity from X's MAC dropped at B (ix); P's de-registration at A
# removes it at B, and P's registration at A again lifts the case b
# entry P's INVITE then left at B; B restarted without its state file
# comes back with the cluster's bindings and blacklist; a
# de-registration through B while A is cut off wins over A's stale
# republication, and one B sends late (cut off) loses to P's
# registration since; A's stale copy never replaces B's newer record;
# C, on a segment of its own, imports P's binding without a MAC, pins
# P's on P's first
# INVITE (accepted, vii) and drops X's forgery (ix).  Root only (exit 77
# otherwise); everything is removed on exit.
set -u
SG=${SIPGUARD:-build/sipguard}
CTL=$(dirname "$SG")/sipguardctl
FLOOD=$(dirname "$SG")/bench/udpflood
NODE="python3 $(dirname "$0")/sipnode.py"
ID=$$
BR=sgcb$ID
R=sgcr$ID
A=sgca$ID
B=sgcb2$ID
C=sgcc$ID
X=sgcx$ID
V=sgcv$ID
P=sgcp$ID
TMP=$(mktemp -d --suffix=.sgcluster)
PIDS=""
RPID=""
FAIL=0
STEP=0
PW=pw$ID$(date +%N)
REDIS=10.97.0.3

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_cluster: SKIPPED: needs root (network namespaces)"
	exit 77
fi
if ! command -v redis-server >/dev/null 2>&1; then
	echo "e2e_cluster: SKIPPED: redis-server not installed (make deps)"
	exit 77
fi

cleanup() {
	for p in $PIDS $RPID; do kill -9 "$p" 2>/dev/null; done
	for n in "$A" "$B" "$C" "$X" "$V" "$P" "$R" "$BR"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	# SHOWLOG=1: the logs even when everything passed.
	if [ "$FAIL" -gt 0 ] || [ -n "${SHOWLOG:-}" ]; then
		for f in "$TMP"/sg-*.log "$TMP/redis.log"; do
			[ -f "$f" ] || continue
			echo "e2e_cluster: $f:"
			sed 's/^/  | /' "$f"
		done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { n=$1; shift; "$CTL" -s "$TMP/control-$n" "$@"; }
rcli() {
	ip netns exec "$R" redis-cli -h $REDIS --no-auth-warning --user sg \
	    -a "$PW" "$@"
}
# within SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
within() {
	t=$(($1 * 10)); shift
	while [ "$t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
listed() { ctl "$1" blacklist | grep -q "^mi  $2 $3 "; }
unlisted() { ! listed "$@"; }
connected() { ctl "$1" cluster | grep -q '^cluster: connected$'; }
down() { ctl "$1" cluster | grep -q '^cluster: DOWN'; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the network: a bridge, Redis, two nodes (a third joins later) ---------
for n in "$BR" "$R" "$A" "$B" "$C" "$X" "$V" "$P"; do ip netns add "$n"; done
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
i=1
# R .3, A .4, B .5, C .6; an attacker X (.66) and its victim V (.77); a
# phone P (.21).
for n in "$R" "$A" "$B" "$C" "$X" "$V" "$P"; do
	ip link add "c$ID$i" type veth peer name "d$ID$i"
	ip link set "c$ID$i" netns "$n"
	ip link set "d$ID$i" netns "$BR"
	ip -n "$BR" link set "d$ID$i" master br0 up
	ip -n "$n" link set "c$ID$i" name eth0
	case $n in
	"$X") ip -n "$n" link set eth0 address 02:5c:00:00:05:66
	      ip -n "$n" addr add 10.97.0.66/24 dev eth0
	      # Its forgery of V's address: V's IP, X's own frames.
	      ip -n "$n" addr add 10.97.0.77/32 dev eth0
	      # The address it floods A's proxy from.
	      ip -n "$n" addr add 10.97.0.88/32 dev eth0 ;;
	"$V") ip -n "$n" link set eth0 address 02:5c:00:00:05:77
	      ip -n "$n" addr add 10.97.0.77/24 dev eth0 ;;
	"$P") ip -n "$n" link set eth0 address 02:5c:00:00:05:21
	      ip -n "$n" addr add 10.97.0.21/24 dev eth0 ;;
	*) ip -n "$n" addr add 10.97.0.$((i + 2))/24 dev eth0 ;;
	esac
	ip -n "$n" link set eth0 up
	ip -n "$n" link set lo up
	i=$((i + 1))
done

start_redis() {
	# An ACL user with what the README says sipguard needs, on its
	# keys and channel only; the default user off.
	ip netns exec "$R" redis-server --bind $REDIS --port 6379 \
	    --protected-mode no --user default off \
	    --user sg on ">$PW" "~sipguard:*" "&sipguard:events" +@read \
	    +@write +@scripting +@pubsub +ping --save "" \
	    --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
	    --appendonly no --dir "$TMP" --daemonize no \
	    >> "$TMP/redis.log" 2>&1 &
	RPID=$!
	within 5 rcli ping
}

umask 077
printf 'sg %s\n' "$PW" > "$TMP/redis.pw"
# A and B over TCP, C (which joins later) over Redis's UNIX socket.
for n in A B C; do
	addr=$REDIS:6379
	[ $n = C ] && addr=$TMP/redis.sock
	: > "$TMP/$n.conf"
	# A judges SIP to its own address (a worker lists the flooder).
	[ $n = A ] && cat > "$TMP/$n.conf" <<EOF
proxy: { addresses = [ "10.97.0.4" ]; };
training: { duration = 3; };
EOF
	# B and C judge SIP to theirs (the shared bindings); A and B see
	# the phones on one segment, C on its own (the default).
	seg='segment = "lan";'
	# C's queue at its least: what it holds must go out a page at a
	# time after a reconnect.
	queue=""
	[ $n = C ] && queue='queue = 16;'
	# No start-up learning window: a phone unknown there is dropped.
	case $n in
	B) echo 'proxy: { addresses = [ "10.97.0.5" ]; };' > "$TMP/$n.conf" ;;
	C) echo 'proxy: { addresses = [ "10.97.0.6" ]; };' > "$TMP/$n.conf"
	   seg="" ;;
	esac
	[ $n != A ] && echo 'startup: { learn = 0; };' >> "$TMP/$n.conf"
	cat >> "$TMP/$n.conf" <<EOF
state: { dir = "$TMP/state-$n"; };
control: { socket = "$TMP/control-$n"; };
metrics: { file = "$TMP/metrics-$n.prom"; interval = 1; };
cluster: {
	enabled = true;
	node = "node-$n";
	$seg
	redis = "$addr";
	password_file = "$TMP/redis.pw";
	timeout = 1;
	$queue
};
EOF
done

# start_sg N NETNS: the daemon of node N, answering on its socket.
start_sg() {
	ip netns exec "$2" "$SG" -f -c "$TMP/$1.conf" >> "$TMP/sg-$1.log" \
	    2>&1 &
	eval "PID_$1=$!"
	PIDS="$PIDS $!"
	within 3 ctl "$1" ping
}

check "redis-server starts in its namespace (ACL user, no persistence)" \
    start_redis
check "the configuration checks (sipguard -t)" \
    "$SG -t -c $TMP/A.conf >/dev/null 2>&1"
check "node A starts" "start_sg A $A"
check "node B starts" "start_sg B $B"
check "A says it is connected to Redis" "within 5 connected A"
check "B says it is connected to Redis" "within 5 connected B"
check "cluster in JSON: enabled, connected, node, redis" \
    "ctl A -j cluster | grep -q '\"enabled\":true,\"connected\":true.*\"redis\":\"$REDIS:6379\",\"node\":\"node-A\"'"

# ---- a listing travels A -> B -------------------------------------------------
M1=02:5c:00:00:01:66
t0=$(ms)
ctl A blacklist add $M1 10.97.9.66 >/dev/null
if within 1 listed B $M1 10.97.9.66; then
	ok "an entry listed at A is listed at B within a second ($(($(ms) - t0)) ms)"
else
	no "an entry listed at A is listed at B within a second"
fi
check "B names where it came from (why=manual@node-A)" \
    "ctl B blacklist | grep -q '$M1 10.97.9.66 why=manual@node-A'"
check "Redis holds it with its remaining life as TTL (PTTL > 0)" \
    "[ \"\$(rcli pttl sipguard:bl:mi:$M1:10.97.9.66:0)\" -gt 500000 ]"
check "A counts a listing published, B one applied" \
    "ctl A -j cluster | grep -q '\"events_out\":1,' && ctl B -j cluster | grep -q '\"events_in\":1,'"

# ---- in B's kernel: the attacker dropped, its victim not ---------------------
# A UDP receiver on B (port 5999) writes each datagram's tag; a sender
# from NETNS, its source address SRC, sends TAG three times.
ip netns exec "$B" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.97.0.5", 5999))
while True:
    d, a = s.recvfrom(2048)
    with open(sys.argv[1], "a") as f:
        f.write(d.decode() + "\n")
' "$TMP/recv" &
PIDS="$PIDS $!"
send() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for _ in range(3):
    s.sendto(sys.argv[2].encode(), ("10.97.0.5", 5999))
' "$2" "$3"
}
got() { sleep 0.3; grep -qx "$1" "$TMP/recv" 2>/dev/null; }
bound() { ip netns exec "$B" ss -uln | grep -q '10.97.0.5:5999 '; }
within 3 bound
send "$X" 10.97.0.66 before
check "before any listing, X's datagrams reach B" "within 2 got before"
ctl A blacklist add 02:5c:00:00:05:66 10.97.0.66 >/dev/null
check "X listed at A is in B's kernel set within a second (nft blk4)" \
    "within 1 sh -c \"ip netns exec $B nft list set inet sipguard blk4 | grep -q '02:5c:00:00:05:66 . 10.97.0.66'\""
send "$X" 10.97.0.66 x-own
check "X's datagrams are now dropped at B" "! got x-own"
# What A lists for a flood forged with V's address: X's own MAC with
# V's IP (SPEC 6).  At B it matches X's forgeries, never V's frames.
ctl A blacklist add 02:5c:00:00:05:66 10.97.0.77 >/dev/null
check "A's entry for a flood forged with V's IP reaches B" \
    "within 1 sh -c \"ip netns exec $B nft list set inet sipguard blk4 | grep -q '02:5c:00:00:05:66 . 10.97.0.77'\""
send "$X" 10.97.0.77 x-forged
send "$V" 10.97.0.77 v-own
check "at B, X's forgeries of V's IP are dropped, V's own datagrams pass" \
    "got v-own && ! grep -qx x-forged $TMP/recv"

# ---- a worker lists a flooder at A: B has it ------------------------------
# The path that matters most: not a command, a worker's own verdict (the
# enforcer's hook, the queue, the main loop's tick).
if [ -x "$FLOOD" ]; then
	ip netns exec "$A" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
	    --queue-num 0 --queue-bypass
	for i in $(seq 1 40); do
		ctl A -j stats | grep -q '"training":false' && break
		ip netns exec "$V" $NODE send 10.97.0.77 10.97.0.4 OPTIONS \
		    victor ka-$i >/dev/null 2>&1
		sleep 0.3
	done
	check "A's module II finished its training" \
	    "ctl A -j stats | grep -q '\"training\":false'"
	printf 'REGISTER sip:lab.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.97.0.88:5060;branch=z9hG4bK-fl\r\nFrom: <sip:mallory@lab.example>;tag=1\r\nTo: <sip:mallory@lab.example>\r\nCall-ID: flood@10.97.0.88\r\nCSeq: 1 REGISTER\r\nContact: <sip:mallory@10.97.0.88:5060>\r\nContent-Length: 0\r\n\r\n' \
	    > "$TMP/register"
	ip netns exec "$X" "$FLOOD" 10.97.0.88 10.97.0.4 5060 \
	    "$TMP/register" 1 > /dev/null
	# SS or DS2, as module II judges the burst: either lists (m, i).
	check "a REGISTER flood from X makes a worker at A list (m, i)" \
	    "within 2 grep -Eq 'alarm type=(ss|ds2) case=- action=block mac=02:5c:00:00:05:66 ip=10.97.0.88' $TMP/sg-A.log"
	check "B lists it within a second, from A's worker (why=ss or ds2@node-A)" \
	    "within 1 sh -c \"'$CTL' -s '$TMP/control-B' blacklist | grep -Eq '^mi  02:5c:00:00:05:66 10.97.0.88 why=(ss|ds2)@node-A'\""
else
	no "a worker's listing at A reaches B: $FLOOD not built (make check)"
fi

# ---- a removal travels B -> A -------------------------------------------------
ctl B blacklist del $M1 10.97.9.66 >/dev/null
check "blacklist del at B removes it at A within a second" \
    "within 1 unlisted A $M1 10.97.9.66"
check "its key is gone from Redis, a tombstone left (sipguard:del:...)" \
    "[ \"\$(rcli exists sipguard:bl:mi:$M1:10.97.9.66:0)\" = 0 ] && [ \"\$(rcli exists sipguard:del:mi:$M1:10.97.9.66:0)\" = 1 ]"
check "metrics: sipguard_cluster_connected 1, listings counted" \
    "within 3 sh -c \"grep -qx 'sipguard_cluster_connected 1' $TMP/metrics-A.prom && grep -q '^sipguard_cluster_events_out_total [1-9]' $TMP/metrics-A.prom\""
check "stats show the cluster line (text)" \
    "ctl A stats | grep -q '^cluster: up, .* 1 removals applied'"

sed -i -e 's/node = "node-A";/node = "node-A"; name = "other";/' \
    -e 's/timeout = 1;/timeout = 3;/' "$TMP/A.conf"
check "reload: the cluster's keys wait for a restart, and the log says so" \
    "ctl A reload >/dev/null && grep -q 'reload: cluster.name, cluster.timeout take effect at restart' $TMP/sg-A.log && ctl A cluster | grep -q 'name sipguard'"

# ---- Redis killed: both keep judging, and say so -----------------------------
kill -9 "$RPID"
wait "$RPID" 2>/dev/null
check "Redis killed: A says DOWN within 3 s" "within 3 down A"
check "Redis killed: B says DOWN within 3 s" "within 3 down B"
check "both daemons still run and answer" \
    "kill -0 \$PID_A && kill -0 \$PID_B && ctl A ping >/dev/null && ctl B ping >/dev/null"
check "the log says the cluster is down" \
    "grep -q 'cluster: down' $TMP/sg-A.log"
check "stats say DOWN too" "ctl B stats | grep -q '^cluster: DOWN'"
M2=02:5c:00:00:02:66
ctl A blacklist add $M2 10.97.9.67 5070 >/dev/null
check "an entry added at A while Redis is down stays local" \
    "listed A $M2 10.97.9.67 2>/dev/null || ctl A blacklist | grep -q '$M2 10.97.9.67 port=5070' && ! ctl B blacklist | grep -q $M2"

# ---- Redis back (empty): reconnect, republish, resync ------------------------
check "redis-server restarts (empty: no persistence)" start_redis
check "A reconnects within 10 s" "within 10 connected A"
check "B reconnects within 10 s" "within 10 connected B"
check "the entry added at A while Redis was down reaches B" \
    "within 3 sh -c \"'$CTL' -s '$TMP/control-B' blacklist | grep -q '$M2 10.97.9.67 port=5070'\""
check "cluster shows a resync and a last sync" \
    "ctl A cluster | grep -q 'last sync: [0-9]* s ago'"

# ---- a partition: a removal wins over the stale copy republished -------------
M3=02:5c:00:00:03:66
ctl A blacklist add $M3 10.97.9.68 >/dev/null
check "another entry listed at A reaches B" "within 1 listed B $M3 10.97.9.68"
ip -n "$A" link set eth0 down
check "A cut off (link down, no FIN): DOWN within cluster.timeout" \
    "within 4 down A"
ctl B blacklist del $M3 10.97.9.68 >/dev/null
check "B removes it while A cannot hear; A still holds its copy" \
    "unlisted B $M3 10.97.9.68 && listed A $M3 10.97.9.68"
ip -n "$A" link set eth0 up
check "A reconnects within 10 s" "within 10 connected A"
check "A's republished stale copy loses to the removal: gone at A" \
    "within 3 unlisted A $M3 10.97.9.68"
check "and it did not come back at B" "unlisted B $M3 10.97.9.68"
check "A counts the refused republication (suppressed)" \
    "ctl A -j cluster | grep -q '\"suppressed\":[1-9]'"

# ---- forget at B lifts at A ------------------------------------------------------
M4=02:5c:00:00:04:66
ctl A blacklist add $M4 10.97.9.69 >/dev/null
ctl A blacklist add $M4 10.97.9.70 5080 >/dev/null
check "two entries of one MAC listed at A reach B" \
    "within 1 listed B $M4 10.97.9.69 && within 1 sh -c \"'$CTL' -s '$TMP/control-B' blacklist | grep -q '$M4 10.97.9.70 port=5080'\""
check "blacklist forget MAC at B removes both at B" \
    "ctl B blacklist forget $M4 | grep -q '^forgot 2 entries'"
check "and at A within a second" \
    "within 1 sh -c \"! '$CTL' -s '$TMP/control-A' blacklist | grep -q $M4\""
# An entry in Redis no node here holds (a node Z listed it, ours
# evicted it): forget finds it in Redis and removes it there too.
M5=02:5c:00:00:05:99
K5=sipguard:bl:mi:$M5:10.97.9.71:0
rcli set $K5 "sg1 $(($(date +%s) * 1000)) add node-Z mi $M5 10.97.9.71 0 600000 manual" \
    px 600000 >/dev/null
check "blacklist forget IP at B, which holds nothing of it: gone from Redis" \
    "ctl B blacklist forget 10.97.9.71 | grep -q '^forgot 0 entries' && within 1 sh -c \"[ \\\$(ip netns exec $R redis-cli -h $REDIS --no-auth-warning --user sg -a $PW exists $K5) = 0 ]\""

# ---- bindings: a phone registered through A, judged at B ----------------------
# SIP to and from the proxy's address through the daemon's queue (the
# proxy's 200 OK is how bindings are learned); a test registrar behind
# A and B (it answers every request with 200).
queue_sip() {
	ip netns exec "$1" iptables -C INPUT -p udp --dport 5060 -j NFQUEUE \
	    --queue-num 0 --queue-bypass 2>/dev/null ||
	    ip netns exec "$1" iptables -A INPUT -p udp --dport 5060 \
	    -j NFQUEUE --queue-num 0 --queue-bypass
	ip netns exec "$1" iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE \
	    --queue-num 0 --queue-bypass
}
registrar() {
	ip netns exec "$1" $NODE registrar "$2" 5060 "$TMP/reg-$3.log" &
	PIDS="$PIDS $!"
}
# a node's count of messages accepted as REASON (its JSON stats)
accepted() {
	ctl "$1" -j stats | grep -o '"accept":{[^}]*}' |
	    grep -o "\"$2\":[0-9]*" | cut -d: -f2 | grep . || echo 0
}
# bound NODE IDENTITY MAC IP: a line of `bindings' (MAC "none": waiting)
bound_at() { ctl "$1" bindings | grep -q "$2 .*$3 $4"; }
delivered() { sleep 0.3; grep -q " $2\$" "$TMP/reg-$1.log" 2>/dev/null; }
PH=phil@lab.example
MP=02:5c:00:00:05:21
queue_sip "$A"
queue_sip "$B"
registrar "$A" 10.97.0.4 A
registrar "$B" 10.97.0.5 B
sleep 0.5
check "P registers through A (the registrar's 200 passes A's queue)" \
    "ip netns exec $P $NODE send 10.97.0.21 10.97.0.4 REGISTER phil reg-1"
check "A learned P's binding from the 200 OK" \
    "within 1 bound_at A $PH $MP 10.97.0.21"
check "B has it within a second, with P's MAC (same segment \"lan\")" \
    "within 1 bound_at B $PH $MP 10.97.0.21"
check "A counts a binding published, B one from a peer" \
    "ctl A -j cluster | grep -q '\"binds_out\":1,' && ctl B -j cluster | grep -q '\"binds_in\":1,'"
check "Redis holds it under (i, d) with its life as TTL, segment in it" \
    "[ \"\$(rcli pttl sipguard:b:10.97.0.21:$PH)\" -gt 3000000 ] && rcli get sipguard:b:10.97.0.21:$PH | grep -q '^sgb1 [0-9]* add node-A lan $MP 10.97.0.21 10.97.0.21 5060 '"
v0=$(accepted B vii)
ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 INVITE phil inv-b1 >/dev/null
check "P's INVITE through B reaches B's registrar" "within 2 delivered B inv-b1"
check "B judged it case vii, the exact binding (accept counter +1)" \
    "[ \$(accepted B vii) -eq $((v0 + 1)) ]"
L=$(wc -l < "$TMP/sg-B.log")
ip netns exec "$X" $NODE spoof 10.97.0.21 10.97.0.5 INVITE phil inv-b2 >/dev/null
check "a forgery of P (its IP and identity) from X's MAC is dropped at B: ix" \
    "within 2 sh -c \"tail -n +$((L + 1)) $TMP/sg-B.log | grep -q 'case=ix action=[a-z]* mac=02:5c:00:00:05:66 ip=10.97.0.21 .*identity=$PH'\" && ! delivered B inv-b2"
SIPNODE_EXPIRES=0 ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.4 \
    REGISTER phil reg-2 >/dev/null
check "P de-registers through A: gone at A" \
    "within 1 sh -c '! \"$CTL\" -s \"$TMP/control-A\" bindings | grep -q $PH'"
check "and at B within a second (a tombstone left in Redis)" \
    "within 1 sh -c '! \"$CTL\" -s \"$TMP/control-B\" bindings | grep -q $PH' && [ \"\$(rcli exists sipguard:bdel:10.97.0.21:$PH)\" = 1 ] && [ \"\$(rcli exists sipguard:b:10.97.0.21:$PH)\" = 0 ]"
ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 INVITE phil inv-b3 >/dev/null
check "P's INVITE through B is dropped now (no binding: case b)" \
    "! delivered B inv-b3 && grep -q 'case=b action=[a-z]* mac=$MP ip=10.97.0.21 .*call_id=inv-b3' $TMP/sg-B.log"
check "P registers through A again: B has it back (newer than the tombstone)" \
    "ip netns exec $P $NODE send 10.97.0.21 10.97.0.4 REGISTER phil reg-3 && within 1 bound_at B $PH $MP 10.97.0.21"
# SPEC 6: a REGISTER answered 200 is the way back from a spoof entry
# (K); the 200 A saw must be that way back at B too, or the case b
# above keeps P's INVITEs dropped at B for blacklist.ttl.
ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 INVITE phil inv-b3b >/dev/null
check "P's INVITE through B passes again (its case b entry forgiven)" \
    "within 2 delivered B inv-b3b"

# ---- B restarted without its state: the cluster's state comes back -----------
kill "$PID_B"
wait "$PID_B" 2>/dev/null
rm -rf "$TMP/state-B"
M6=02:5c:00:00:06:66
ctl A blacklist add $M6 10.97.9.72 >/dev/null
check "B restarts with no state file" "start_sg B $B && within 5 connected B"
check "B has P's binding again, from the cluster (P's MAC)" \
    "within 3 bound_at B $PH $MP 10.97.0.21"
check "and the blacklist: an entry A listed while B was down, and an older one" \
    "within 3 listed B $M6 10.97.9.72 && ctl B blacklist | grep -q '$M2 10.97.9.67 port=5070'"
v0=$(accepted B vii)
ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 INVITE phil inv-b4 >/dev/null
check "P's INVITE through the restarted B: accepted as vii" \
    "within 2 delivered B inv-b4 && [ \$(accepted B vii) -eq $((v0 + 1)) ]"

# ---- a partition: a de-registration wins over A's stale republication ---------
# P de-registers through B while A, which learned P itself, is cut off;
# A comes back and republishes its copy (older than the removal): Redis
# refuses it, and A's resync removes its copy (same segment: same F).
s0=$(ctl A -j cluster | grep -o '"suppressed":[0-9]*' | cut -d: -f2)
ip -n "$A" link set eth0 down
check "A cut off again: DOWN within cluster.timeout" "within 4 down A"
SIPNODE_EXPIRES=0 ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 \
    REGISTER phil reg-4 >/dev/null
check "P de-registers through B: gone at B; A, cut off, still holds it" \
    "within 1 sh -c '! \"$CTL\" -s \"$TMP/control-B\" bindings | grep -q $PH' && bound_at A $PH $MP 10.97.0.21"
ip -n "$A" link set eth0 up
check "A reconnects within 10 s" "within 10 connected A"
check "A's republished binding loses to the de-registration: gone at A" \
    "within 3 sh -c '! \"$CTL\" -s \"$TMP/control-A\" bindings | grep -q $PH'"
check "Redis refused the stale copy (A's suppressed +1), B did not get it back" \
    "ctl A -j cluster | grep -q '\"suppressed\":$((s0 + 1)),' && ! ctl B bindings | grep -q $PH && [ \"\$(rcli exists sipguard:b:10.97.0.21:$PH)\" = 0 ]"
check "P registers through A again: on A and B" \
    "ip netns exec $P $NODE send 10.97.0.21 10.97.0.4 REGISTER phil reg-5 && within 1 bound_at B $PH $MP 10.97.0.21"

# ---- a partition the other way: a late de-registration loses --------------------
# B alone is cut off from Redis (a blackhole route: P still reaches B)
# when P de-registers through it; P registers through A after that.  B
# comes back and sends its removal, older than A's registration: Redis
# keeps the binding (it used to delete it and leave the older
# tombstone), A keeps it, and B's resync gets it back.
ip -n "$B" route add blackhole $REDIS/32
check "B cut off from Redis alone: DOWN within cluster.timeout" \
    "within 4 down B"
SIPNODE_EXPIRES=0 ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.5 \
    REGISTER phil reg-6 >/dev/null
check "P de-registers through B: gone at B" \
    "within 1 sh -c '! \"$CTL\" -s \"$TMP/control-B\" bindings | grep -q $PH'"
sleep 0.2
check "then P registers through A" \
    "ip netns exec $P $NODE send 10.97.0.21 10.97.0.4 REGISTER phil reg-7 && within 1 bound_at A $PH $MP 10.97.0.21"
ip -n "$B" route del blackhole $REDIS/32
check "B reconnects within 15 s" "within 15 connected B"
check "B's late removal loses: Redis keeps P's binding, A too, B has it back" \
    "within 3 bound_at B $PH $MP 10.97.0.21 && [ \"\$(rcli exists sipguard:b:10.97.0.21:$PH)\" = 1 ] && bound_at A $PH $MP 10.97.0.21"

# ---- a partition: a stale republication never replaces a newer record -----------
# A, cut off, holds P's binding from reg-7; P registers through B
# meanwhile.  A comes back and republishes its copy, older than B's: the
# record in Redis stays B's (it used to be overwritten with A's older
# stamp, which a late removal between the two then beat).
# brec NODE: P's record in Redis was published by NODE.
brec() { rcli get "sipguard:b:10.97.0.21:$PH" | grep -q "^sgb1 [0-9]* add $1 "; }
ip -n "$A" link set eth0 down
check "A cut off: DOWN within cluster.timeout" "within 4 down A"
check "P registers through B: Redis holds B's record" \
    "ip netns exec $P $NODE send 10.97.0.21 10.97.0.5 REGISTER phil reg-8 && within 1 brec node-B"
ip -n "$A" link set eth0 up
check "A reconnects within 15 s" "within 15 connected A"
sleep 1
check "A's older copy did not replace B's record" \
    "brec node-B && bound_at A $PH $MP 10.97.0.21 && bound_at B $PH $MP 10.97.0.21"

# ---- a wrong password: refused, said, and nothing else breaks ------------------
sed -e "s|redis.pw|wrong.pw|" -e "s|node-C|node-D|" \
    -e "s|control-C|control-D|" -e "s|state-C|state-D|" "$TMP/C.conf" \
    > "$TMP/D.conf"
printf 'sg wrong\n' > "$TMP/wrong.pw"
check "a node with a wrong password starts" "start_sg D $C"
check "it says DOWN, naming AUTH's refusal" \
    "within 3 sh -c \"'$CTL' -s '$TMP/control-D' cluster | grep -q '^cluster: DOWN.*AUTH: WRONGPASS'\""
kill "$PID_D"
wait "$PID_D" 2>/dev/null

# ---- a node that joins later reads what is live ------------------------------
# A foreign key of another type under the prefix: skipped, not fatal.
rcli hset sipguard:foreign field value >/dev/null
check "node C starts" "start_sg C $C"
check "C connects over Redis's UNIX socket and its resync lists A's entry" \
    "within 5 sh -c \"'$CTL' -s '$TMP/control-C' blacklist | grep -q '$M2 10.97.9.67 port=5070'\""

# ---- another segment: C imports P's binding, pins P's MAC ----------------------
check "C (its own segment) holds P's binding without a MAC (imported)" \
    "within 3 bound_at C $PH none 10.97.0.21"
queue_sip "$C"
registrar "$C" 10.97.0.6 C
sleep 0.5
v0=$(accepted C vii)
ip netns exec "$P" $NODE send 10.97.0.21 10.97.0.6 INVITE phil inv-c1 >/dev/null
check "P's first INVITE through C pins P's MAC and is accepted as vii" \
    "within 2 delivered C inv-c1 && [ \$(accepted C vii) -eq $((v0 + 1)) ] && bound_at C $PH $MP 10.97.0.21"
L=$(wc -l < "$TMP/sg-C.log")
ip netns exec "$X" $NODE spoof 10.97.0.21 10.97.0.6 INVITE phil inv-c2 >/dev/null
check "then X's forgery of P's IP and identity is dropped at C: ix" \
    "within 2 sh -c \"tail -n +$((L + 1)) $TMP/sg-C.log | grep -q 'case=ix action=[a-z]* mac=02:5c:00:00:05:66 ip=10.97.0.21 .*identity=$PH'\" && ! delivered C inv-c2"
check "C counts the binding from a peer, none refused" \
    "ctl C -j cluster | grep -q '\"binds_refused\":0,' && ctl C cluster | grep -q '^redis .*segment node-C'"

# ---- a queue smaller than the blacklist: republished a page at a time ------
kill -9 "$RPID"
wait "$RPID" 2>/dev/null
check "Redis killed again: C says DOWN" "within 3 down C"
# Five times C's queue (16) listed while Redis is down; what did not fit
# then is offered again at the resync.
k=0
while [ $k -lt 80 ]; do
	ctl C blacklist add 02:5c:00:00:0a:66 10.97.10.$k >/dev/null
	k=$((k + 1))
done
OVF0=$(ctl C -j cluster | sed 's/.*"overflow":\([0-9]*\),.*/\1/')
check "redis-server restarts (empty)" start_redis
bl_keys() { [ "$(rcli --scan --pattern 'sipguard:bl:*02:5c:00:00:0a:66*' | wc -l)" -eq 80 ]; }
check "C republishes its 80 entries through its queue of 16, a page at a time: all in Redis, none lost to the queue" \
    "within 10 bl_keys && ctl C -j cluster | grep -q '\"overflow\":$OVF0,'"

for n in A B C; do
	eval "p=\$PID_$n"
	kill "$p" 2>/dev/null
done
for n in A B C; do
	eval "p=\$PID_$n"
	wait "$p" 2>/dev/null
done
check "the daemons stop cleanly" \
    "grep -q 'stopped' $TMP/sg-A.log && grep -q 'stopped' $TMP/sg-B.log"

echo "1..$STEP"
[ "$FAIL" -eq 0 ]
