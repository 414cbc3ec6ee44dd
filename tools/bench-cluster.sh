#!/bin/sh
# bench-cluster.sh: make bench-cluster.  A network namespace of its own
# with a redis-server on its loopback (no persistence, a scratch
# directory), and bench/cluster there: two cluster instances in one
# process, propagation A -> B (p50, p99) and the rate of a burst.  Then
# the live part (below): the real daemon's verdict latency with the
# cluster off, Redis up, killed, partitioned, and back.  Root
# (namespaces keep the traffic to themselves); everything is removed on
# exit.
set -u
B=${B:-build}
BIN=$B/bench/cluster
N=sgbc$$
TMP=$(mktemp -d --suffix=.sgbenchcl)

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-cluster: needs root (a network namespace)" >&2
	exit 1
fi
cleanup() {
	for p in $(ip netns pids "$N" 2>/dev/null); do kill -9 "$p"; done
	ip netns del "$N" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$N"
ip -n "$N" link set lo up
ip netns exec "$N" redis-server --bind 127.0.0.1 --port 6379 --save "" \
    --appendonly no --dir "$TMP" --daemonize no > "$TMP/redis.log" 2>&1 &
for _ in 1 2 3 4 5 6 7 8 9 10; do
	ip netns exec "$N" redis-cli -p 6379 ping >/dev/null 2>&1 && break
	sleep 0.2
done
echo "bench-cluster: $(redis-server --version | cut -d' ' -f1-3), loopback," \
    "$(nproc) CPU(s)"
ip netns exec "$N" "$BIN" 127.0.0.1:6379 "${BENCH_CLUSTER_N:-20000}"

# ---- live: verdict latency while Redis fails ---------------------------------
# The real daemon judges a bound UE's INVITEs through NFQUEUE, one at a
# time, to an echo on the proxy's address (bench/udprtt, as bench-nfq's
# latency: each round trip is two judged packets, the INVITE in and its
# echo out), with cluster.redis at a redis-server in a third namespace.
# Each round, in turn: (1) the cluster off (a daemon of its own); with it
# on: (2) Redis up, (3) Redis killed (kill -9) while the traffic runs,
# then reconnection attempts refused, with backoff, (4) Redis restarted,
# reconnected, then partitioned (its namespace drops every packet: the
# PING unanswered, each connect left to cluster.timeout), (5) the
# partition lifted while the traffic runs: reconnect, resync.  Per
# phase: round trips p50/p99 and lost (no echo in 100 ms: a stall of the
# workers that long would show here), the daemon's CPU per judged packet
# (all its threads, /proc/PID/task/*/schedstat), the messages it
# accepted as vii, the connections it tried, the slowest answer of its
# main loop (the one that talks to Redis) to `sipguardctl ping', and
# what `sipguardctl cluster' said after.  Mode detect, as bench-nfq: one
# UE at thousands of INVITEs a second is a flood to module II, which
# then only alarms.  LIVE=0 skips it; LIVE_N round trips a phase,
# LIVE_ROUNDS rounds; LIVE_LISTED=N: N listings of another node in
# Redis, held by the daemon (mode prevent, module II training), so that
# each reconnect republishes a table.
[ "${LIVE:-1}" = 0 ] && exit 0
LN=${LIVE_N:-40000}
LROUNDS=${LIVE_ROUNDS:-3}
S=sgls$$
R=sglr$$
D=sgld$$
CTL="$B/sipguardctl -s $TMP/control"
LPIDS=""
RPID=""
live_cleanup() {
	for p in $LPIDS $RPID; do kill -9 "$p" 2>/dev/null; done
	for n in "$S" "$R" "$D"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p"; done
		ip netns del "$n" 2>/dev/null
	done
	cleanup
}
trap live_cleanup EXIT INT TERM
for b in sipguard sipguardctl bench/udprtt bench/udpflood; do
	[ -x "$B/$b" ] || { echo "bench-cluster: $B/$b not built" >&2; exit 1; }
done

# UE (S) 10.97.0.11 -- daemon and echo (R) 10.97.0.1; R 10.97.1.1 --
# Redis (D) 10.97.1.2.
for n in "$S" "$R" "$D"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "ls$$" type veth peer name "lr$$"
ip link add "lq$$" type veth peer name "ld$$"
ip link set "ls$$" netns "$S"
ip link set "lr$$" netns "$R"
ip link set "lq$$" netns "$R"
ip link set "ld$$" netns "$D"
ip -n "$S" link set "ls$$" address 02:5b:00:00:00:11
ip -n "$R" link set "lr$$" address 02:5b:00:00:00:01
ip -n "$S" addr add 10.97.0.11/24 dev "ls$$"
ip -n "$R" addr add 10.97.0.1/24 dev "lr$$"
ip -n "$R" addr add 10.97.1.1/24 dev "lq$$"
ip -n "$D" addr add 10.97.1.2/24 dev "ld$$"
ip -n "$S" link set "ls$$" up
ip -n "$R" link set "lr$$" up
ip -n "$R" link set "lq$$" up
ip -n "$D" link set "ld$$" up
ip netns exec "$R" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
    --queue-num 0
ip netns exec "$R" iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE \
    --queue-num 0

crlf() { printf '%s\r\n' "$@"; }
{
	crlf "INVITE sip:bob@lab.example SIP/2.0" \
	    "Via: SIP/2.0/UDP 10.97.0.11:5060;branch=z9hG4bK-bench" \
	    "Max-Forwards: 70" "From: <sip:alice@lab.example>;tag=b1" \
	    "To: <sip:bob@lab.example>" "Call-ID: bench-1@10.97.0.11" \
	    "CSeq: 1 INVITE" "Contact: <sip:alice@10.97.0.11:5060>" \
	    "Content-Length: 0" ""
} > "$TMP/invite"
{
	crlf "REGISTER sip:lab.example SIP/2.0" \
	    "Via: SIP/2.0/UDP 10.97.0.11:5060;branch=z9hG4bK-reg" \
	    "From: <sip:alice@lab.example>;tag=r1" "To: <sip:alice@lab.example>" \
	    "Call-ID: reg-1@10.97.0.11" "CSeq: 1 REGISTER" \
	    "Contact: <sip:alice@10.97.0.11:5060>" "Expires: 3600" \
	    "Content-Length: 0" ""
} > "$TMP/register"
{
	crlf "SIP/2.0 200 OK" \
	    "Via: SIP/2.0/UDP 10.97.0.11:5060;branch=z9hG4bK-reg" \
	    "From: <sip:alice@lab.example>;tag=r1" \
	    "To: <sip:alice@lab.example>;tag=s1" \
	    "Call-ID: reg-1@10.97.0.11" "CSeq: 1 REGISTER" \
	    "Contact: <sip:alice@10.97.0.11:5060>;expires=3600" \
	    "Content-Length: 0" ""
} > "$TMP/ok"
# LIVE_LISTED: mode prevent (detect lists nothing) with module II in
# training the whole time (it would list the UE, a flood).
MODE=detect TRAIN=0.5
[ "${LIVE_LISTED:-0}" -gt 0 ] && MODE=prevent TRAIN=3600
conf() {	# conf FILE on|off
	cat > "$1" <<EOC
mode = "$MODE";
proxy: { addresses = [ "10.97.0.1" ]; };
queue: { fail_open = false; maxlen = 8192; };
nft: { enabled = false; };
state: { dir = "$TMP"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = $TRAIN; };
EOC
	[ "$2" = on ] && cat >> "$1" <<EOC
cluster: { enabled = true; node = "bench"; redis = "10.97.1.2:6379";
    timeout = 1; };
EOC
}
conf "$TMP/off.conf" off
conf "$TMP/on.conf" on

# within TENTHS COMMAND...: poll every 0.1 s until COMMAND succeeds.
within() {
	t=$1; shift
	while [ "$t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
redis_up() {
	ip netns exec "$D" taskset -c 0 redis-server --bind 10.97.1.2 \
	    --port 6379 --protected-mode no --save "" --appendonly no \
	    --dir "$TMP" --daemonize no >> "$TMP/redis-live.log" 2>&1 &
	RPID=$!
	within 50 ip netns exec "$D" redis-cli -h 10.97.1.2 ping || return 1
	# LIVE_LISTED: that many listings of another node, live in Redis
	# (each start of the server: none persist), so that every
	# (re)connect applies, and every reconnect republishes, a table.
	[ "${LIVE_LISTED:-0}" -gt 0 ] || return 0
	ip netns exec "$D" redis-cli -h 10.97.1.2 eval "
local now = tonumber(ARGV[2])
for k = 0, tonumber(ARGV[1]) - 1 do
	local mac = string.format('02:5e:00:%02x:%02x:%02x',
	    math.floor(k / 65536) % 256, math.floor(k / 256) % 256, k % 256)
	local ip = string.format('10.%d.%d.%d', 200 + math.floor(k / 65536),
	    math.floor(k / 256) % 256, k % 256)
	redis.call('SET', 'sipguard:bl:mi:' .. mac .. ':' .. ip .. ':0',
	    'sg1 ' .. now .. ' add node-z mi ' .. mac .. ' ' .. ip ..
	    ' 0 3600000 manual', 'PX', 3600000)
end" 0 "$LIVE_LISTED" "$(($(date +%s) * 1000))" > /dev/null
}
connected() { $CTL cluster | grep -q '^cluster: connected$'; }
state() { $CTL cluster | head -n 1 | sed 's/ (judging.*//; s/; judging.*//'; }
# The daemon's CPU, all its threads, in ns (schedstat: time on a CPU).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END {
	printf "%.0f\n", s }'; }
stat() { $CTL -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
# cluster counter $1 (0 with the cluster off): connections tried,
# messages lost to a full queue
ccount() { $CTL -j cluster | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" |
    grep . || echo 0; }
vii() { $CTL -j stats | sed -n 's/.*"accept":{[^}]*"vii":\([0-9]*\).*/\1/p'; }

# start_sg on|off: the daemon on CPU 1 (SGPID), alice registered
# through it (the proxy's 200 goes out through the queue), the echo.
start_sg() {
	rm -f "$TMP/state" "$TMP/control"
	ip netns exec "$R" taskset -c 1 "$B/sipguard" -f -c "$TMP/$1.conf" \
	    >> "$TMP/sg-live.log" 2>&1 &
	SGPID=$!
	LPIDS="$LPIDS $SGPID"
	within 50 $CTL ping || { echo "bench-cluster: no daemon" >&2; exit 1; }
	if [ "$1" = on ] && ! within 50 connected; then
		echo "bench-cluster: the daemon did not connect" >&2
		exit 1
	fi
	sleep 0.6			# module II's training (0.5 s)
	ip netns exec "$S" "$B/bench/udpflood" 10.97.0.11 10.97.0.1 5060 \
	    "$TMP/register" 0 > /dev/null
	ip netns exec "$R" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.97.0.1', 5060))
s.sendto(open('$TMP/ok', 'rb').read(), ('10.97.0.11', 5060))"
	sleep 0.3
	ip netns exec "$R" taskset -c 0 "$B/bench/udprtt" -s 10.97.0.1 5060 &
	EPID=$!
	LPIDS="$LPIDS $EPID"
	sleep 0.3
}
stop_sg() {
	kill "$SGPID" "$EPID"
	wait "$SGPID" "$EPID" 2>/dev/null
	LPIDS=""			# gone: their numbers may be reused
}

# phase NAME [EVENT...]: LN round trips, EVENT run 0.2 s into them;
# one line: name p50 p99 lost ms ns-CPU/packet vii connects
# slowest-ping-us queue-overflow state.
phase() {
	name=$1; shift
	c0=$(cpu_ns "$SGPID") r0=$(stat received) v0=$(vii)
	k0=$(ccount connects) o0=$(ccount overflow)
	t0=$(date +%s%N)
	ip netns exec "$S" taskset -c 0 "$B/bench/udprtt" 10.97.0.11 \
	    10.97.0.1 5060 "$TMP/invite" "$LN" > "$TMP/rtt" &
	CPID=$!
	# The main loop's own answer meanwhile: `sipguardctl ping' every
	# 0.2 s (it is the loop that talks to Redis), the slowest kept.
	( m=0 j=0
	while [ "$j" -lt 300 ] && kill -0 "$CPID" 2>/dev/null; do
		a=$(date +%s%N); $CTL ping > /dev/null; b=$(date +%s%N)
		[ $((b - a)) -gt "$m" ] && m=$((b - a))
		sleep 0.2; j=$((j + 1))
	done; echo "$m" > "$TMP/ctlmax" ) &
	PPID_=$!
	if [ $# -gt 0 ]; then sleep 0.2; "$@"; fi
	wait "$CPID"
	wait "$PPID_"
	t1=$(date +%s%N) c1=$(cpu_ns "$SGPID") r1=$(stat received) v1=$(vii)
	k1=$(ccount connects) o1=$(ccount overflow)
	set -- $(cat "$TMP/rtt")
	[ $# -eq 3 ] || { echo "bench-cluster: $name: no round trip" >&2
	    exit 1; }
	echo "$name $1 $2 $3 $(( (t1 - t0) / 1000000 ))" \
	    "$(( (c1 - c0) / (r1 - r0) )) $((v1 - v0)) $((k1 - k0))" \
	    "$(( $(cat "$TMP/ctlmax") / 1000 )) $((o1 - o0))" \
	    "$(state | tr ' ' _)" \
	    >> "$TMP/phases"
}
kill_redis() { kill -9 "$RPID"; wait "$RPID" 2>/dev/null; RPID=""; }
partition() { ip netns exec "$D" iptables -I INPUT -j DROP; }
# heal: the partition lifted; a poller notes when the daemon says
# connected again (within 10 s).
heal() {
	ip netns exec "$D" iptables -D INPUT -j DROP
	h=$(date +%s%N)
	( within 100 connected && echo "healed $(( ($(date +%s%N) - h) /
	    1000000 ))" > "$TMP/healed" ) &
	HPID=$!
}

: > "$TMP/phases"
echo "bench-cluster live: the daemon judging a bound UE's INVITE" \
    "round trips ($LN a phase, one at a time), $LROUNDS rounds," \
    "mode $MODE, ${LIVE_LISTED:-0} listings of another node held"
redis_up || { echo "bench-cluster: no redis-server" >&2; exit 1; }
i=1
while [ "$i" -le "$LROUNDS" ]; do
	start_sg off
	phase off
	stop_sg
	start_sg on
	phase up
	phase killed kill_redis
	redis_up
	# Reconnect (the backoff may be at 4 s by now) before the cut.
	within 300 connected || { echo "bench-cluster: no reconnect" >&2
	    exit 1; }
	phase partitioned partition
	rm -f "$TMP/healed"
	phase back heal
	wait "$HPID"
	cat "$TMP/healed" >> "$TMP/phases" 2>/dev/null
	within 300 connected || { echo "bench-cluster: no reconnect" >&2
	    exit 1; }
	stop_sg
	i=$((i + 1))
done
# Each round's phases, then per phase the range over the rounds.
awk -v rounds="$LROUNDS" '
$1 == "healed" { printf "    (back: connected again %.1f s after the" \
	    " partition was lifted)\n", $2 / 1000; next }
{
	if ($1 == "off")
		printf "  round %d\n", ++r
	printf "    %-11s p50 %6.1f us  p99 %7.1f us  lost %d  %4.1f s" \
	    "  CPU %5.1f us/pkt  vii %5d  connects %d  ping max %.1f ms" \
	    "%s  then: %s\n", $1, $2, $3, $4, $5 / 1000, $6 / 1000, $7, $8,
	    $9 / 1000, ($10 > 0 ? "  queue lost " $10 : ""), $11
	if (!($1 in n)) { order[++k] = $1; lo50[$1] = hi50[$1] = $2
		lo99[$1] = hi99[$1] = $3; loc[$1] = hic[$1] = $6; pm[$1] = $9 }
	n[$1]++
	if ($2 < lo50[$1]) lo50[$1] = $2; if ($2 > hi50[$1]) hi50[$1] = $2
	if ($3 < lo99[$1]) lo99[$1] = $3; if ($3 > hi99[$1]) hi99[$1] = $3
	if ($6 < loc[$1]) loc[$1] = $6; if ($6 > hic[$1]) hic[$1] = $6
	if ($9 > pm[$1]) pm[$1] = $9
	lost[$1] += $4
}
END {
	printf "  over %d rounds (min to max):\n", rounds
	for (j = 1; j <= k; j++) {
		p = order[j]
		printf "    %-11s p50 %.1f to %.1f us  p99 %.1f to %.1f us" \
		    "  CPU %.1f to %.1f us/pkt  lost %d  ping max %.1f ms\n", p,
		    lo50[p], hi50[p], lo99[p], hi99[p], loc[p] / 1000,
		    hic[p] / 1000, lost[p], pm[p] / 1000
	}
}' "$TMP/phases" | tr _ ' '
grep -E 'cluster: (down|connected)' "$TMP/sg-live.log" | sort | uniq -c |
    sed 's/^ */  log, times: /' | cut -c 1-120
