#!/bin/sh
# make bench-nfq: packets per second through the daemon against a bare
# accept-all NFQUEUE reader (bench/nfq_accept, the same intake code), in
# one run, interleaved, sender and reader pinned to different CPUs.
# Root only; everything happens in two namespaces made here and removed.
set -eu
B=${B:-build}
SECS=${SECS:-4}
ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d --suffix=.sgbench)
S=sgbs$$
R=sgbr$$

cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
	[ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$R" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || { echo "bench-nfq: needs root" >&2; exit 1; }
ip netns add "$S"
ip netns add "$R"
ip link add "bs$$" type veth peer name "br$$"
ip link set "bs$$" netns "$S"
ip link set "br$$" netns "$R"
ip -n "$S" link set "bs$$" address 02:5b:00:00:00:11
ip -n "$R" link set "br$$" address 02:5b:00:00:00:01
ip -n "$S" addr add 10.97.0.11/24 dev "bs$$"
ip -n "$R" addr add 10.97.0.1/24 dev "br$$"
for n in "$S" "$R"; do ip -n "$n" link set lo up; done
ip -n "$S" link set "bs$$" up
ip -n "$R" link set "br$$" up
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
	    "Content-Type: application/sdp" "Content-Length: 129" ""
	crlf "v=0" "o=- 1 1 IN IP4 10.97.0.11" "s=-" "c=IN IP4 10.97.0.11" \
	    "t=0 0" "m=audio 4000 RTP/AVP 0 8" "a=rtpmap:0 PCMU/8000" \
	    "a=rtpmap:8 PCMA/8000"
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
cat > "$TMP/sg.conf" <<EOC
mode = "detect";
proxy: { addresses = [ "10.97.0.1" ]; };
queue: { fail_open = false; maxlen = 8192; };
nft: { enabled = false; };
state: { dir = "$TMP"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 0.5; };
EOC

# CPU time of a process, all its threads, in ns: the scheduler's own
# count (schedstat), exact; utime and stime (/proc/PID/stat) are sampled
# at the kernel's tick, 100 a second, and moved a paced round's figure by
# 10 % or more.  They still split it: ucpu prints the user and kernel
# ticks, and the user share of the exact time is the user ticks' share.
cpu() {
	cat "/proc/$1"/task/*/schedstat |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}
ucpu() { awk '{ printf "%.0f\n", $14 * 1000000 + $15 }' "/proc/$1/stat"; }
# user_ns CPU_NS TICKS0 TICKS1: the user share of CPU_NS between the two
user_ns() {
	awk -v c="$1" -v a="$2" -v b="$3" 'BEGIN {
		u = int(b / 1000000) - int(a / 1000000)
		k = b % 1000000 - a % 1000000
		printf "%.0f\n", (u + k > 0 ? c * u / (u + k) : 0) }'
}

flood() {	# as fast as the sender goes, or FRATE a second
	ip netns exec "$S" taskset -c 0 "$B/bench/udpflood" 10.97.0.11 \
	    10.97.0.1 5060 "$TMP/invite" "$SECS" ${FRATE:+0 "$FRATE"}
}

run_ref() {	# run_ref [-b]: the bare reader, one verdict a packet or -b
	ip netns exec "$R" taskset -c 1 "$B/bench/nfq_accept" ${1:-} 0 \
	    > "$TMP/ref.out" 2> "$TMP/ref.err" &
	PID=$!
	sleep 0.5
	c0=$(cpu "$PID") u0=$(ucpu "$PID")
	flood > /dev/null
	sleep 0.2
	c1=$(cpu "$PID") u1=$(ucpu "$PID")
	kill "$PID"; wait "$PID" || true
	PID=
	echo "$(( $(cat "$TMP/ref.out") / SECS )) $((c1 - c0))" \
	    "$(user_ns $((c1 - c0)) "$u0" "$u1")"
}

# The daemon on CPU 1 or CPU (PID), alice registered through it: the proxy's
# 200 goes out through the queue.
start_sg() {	# start_sg [CPU]
	rm -f "$TMP/state" "$TMP/control"
	ip netns exec "$R" taskset -c "${1:-1}" "$B/sipguard" -c "$TMP/sg.conf" \
	    2> "$TMP/sg.err" &
	PID=$!
	# Its control socket is up once it reads the queue (at most 5 s: a
	# busy machine starts it slowly, and a REGISTER sent before would be
	# dropped by the queue with no reader).
	n=0
	while [ ! -S "$TMP/control" ] && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	sleep 0.2
	ip netns exec "$S" "$B/bench/udpflood" 10.97.0.11 10.97.0.1 5060 \
	    "$TMP/register" 0 > /dev/null
	ip netns exec "$R" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.97.0.1', 5060))
s.sendto(open('$TMP/ok', 'rb').read(), ('10.97.0.11', 5060))"
	sleep 1
}

run_sg() {
	start_sg
	before=$("$B/sipguardctl" -s "$TMP/control" -j stats |
	    sed 's/.*"received":\([0-9]*\).*/\1/')
	c0=$(cpu "$PID") u0=$(ucpu "$PID")
	flood > /dev/null
	sleep 0.2
	c1=$(cpu "$PID") u1=$(ucpu "$PID")
	"$B/sipguardctl" -s "$TMP/control" -j stats > "$TMP/stats"
	after=$(sed 's/.*"received":\([0-9]*\).*/\1/' "$TMP/stats")
	vii=$(sed -n 's/.*"accept":{[^}]*"vii":\([0-9]*\).*/\1/p' "$TMP/stats")
	kill "$PID"; wait "$PID" || true
	PID=
	[ -n "$vii" ] && [ "$vii" -gt 0 ] || {
		echo "bench-nfq: the daemon judged no INVITE as vii" >&2
		cat "$TMP/sg.err" >&2
		exit 1
	}
	echo "$(( (after - before) / SECS )) $((c1 - c0))" \
	    "$(user_ns $((c1 - c0)) "$u0" "$u1")"
}

# rounds N NAME: N rounds of the three, each its own flood; a line each,
# and the median of the rounds' ratios (the machine's load moves from
# round to round as other work starts and stops).
rounds() {
	: > "$TMP/ratios"
	i=1
	while [ "$i" -le "$1" ]; do
		set -- "$1" "$2" $(run_ref)
		ref=$3 rcpu=$4 rucpu=$5
		set -- "$1" "$2" $(run_ref -b)
		refb=$3 rbcpu=$4
		set -- "$1" "$2" $(run_sg)
		sg=$3 scpu=$4 sucpu=$5
		# CPU per packet (us): ns / packets / 1000; the rate ratio moves
		# with the machine, CPU per packet much less.  The reader as
		# written after the library's example (one verdict message a
		# packet), and with the daemon's batch verdicts (-b).
		awk -v r="$ref" -v rc="$rcpu" -v b="$refb" -v bc="$rbcpu" \
		    -v s="$sg" -v sc="$scpu" -v t="$SECS" \
		    -v ruc="$rucpu" -v suc="$sucpu" \
		    -v i="$i" -v n="$2" -v f="$TMP/ratios" 'BEGIN {
			ru = rc / 1e3 / (r * t)
			su = sc / 1e3 / (s * t)
			bu = bc / 1e3 / (b * t)
			# User space alone: the judgment, beside the reader
			# whose user space does nearly nothing.
			ruu = ruc / 1e3 / (r * t)
			suu = suc / 1e3 / (s * t)
			printf "  %s %d: accept-all reader %d pkts/s, %.2f us" \
			    " CPU/pkt (batch verdicts: %d pkts/s, %.2f us);" \
			    " sipguard %d pkts/s, %.2f us CPU/pkt: %.2f of" \
			    " the reader'"'"'s rate, %.2f times its CPU per" \
			    " packet (%.2f times the batching reader'"'"'s)\n",
			    n, i, r, ru, b, bu, s, su, s / r, su / ru, su / bu
			printf "    user space: reader %.2f us/pkt, sipguard" \
			    " %.2f; the kernel: reader %.2f, sipguard %.2f\n",
			    ruu, suu, ru - ruu, su - suu
			printf "%f %f %f %f\n", su / ru, su / bu, bu / ru,
			    suu - ruu >> f }'
		i=$((i + 1))
	done
	[ "$1" -gt 0 ] || return 0
	sort -n "$TMP/ratios" | awk -v n="$2" '
	{ a[NR] = $1; b[NR] = $2; c[NR] = $3; d[NR] = $4 }
	function med(x, k,   i, j, t) {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && x[j - 1] > x[j]; j--) {
				t = x[j]; x[j] = x[j - 1]; x[j - 1] = t
			}
		return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
	}
	END {
		printf "  %s, median over %d rounds: sipguard %.2f times the" \
		    " reader'"'"'s CPU per packet, %.2f times the batching" \
		    " reader'"'"'s (which is %.2f times the reader'"'"'s);" \
		    " lowest and highest of the first: %.2f, %.2f; sipguard'"'"'s" \
		    " user space less the reader'"'"'s: %.2f us a packet\n", n, NR,
		    med(a, NR), med(b, NR), med(c, NR), a[1], a[NR], med(d, NR)
	}'
}
echo "bench-nfq: ${SECS} s floods of a 580-byte INVITE from a bound UE," \
    "sender on CPU 0, reader on CPU 1"
# As fast as the sender goes: how many packets a reader gets at each
# wake-up depends on how fast it is, and CPU per packet on that.
rounds "$ROUNDS" "round"
# Paced, PRATE a second, below what either reader takes on this machine:
# both see the same load, in the same bursts (udpflood sleeps 20 us, about
# 70 with the timer's slack, then sends what is due: two or three packets
# a burst at 40,000 a second).  The rounds of a paced run moved from 0.8
# to 1.6 on a busy machine, with CPU counted exactly: five by default.
PRATE=${PRATE:-40000}
FRATE=$PRATE
rounds "${PROUNDS:-5}" "paced at $PRATE/s, round"
FRATE=

# ---- latency: one message at a time ---------------------------------------------
# An echo on the proxy's port sends each INVITE straight back (both ways
# through the queue), the UE sends the next after the echo: the round
# trip through the bare reader, then through sipguard (alice bound, each
# INVITE judged vii); the difference is what judging adds.  Both readers
# run at once, on queues 1 and 0; the rules send the trips to one, then
# the other, LROUNDS times in turn, so that the machine's moods fall on
# both alike.  Reported: the median over the rounds of each one's p50
# and p99, and of the differences.  The readers run on LCPU, by default
# the CPU of the UE and the echo: four wake-ups across CPUs a trip (the
# readers on CPU 1) cost tens of microseconds each on this machine and
# move by more than judging costs (LCPU=1 measures that placement).
RTTN=${RTTN:-300}
LROUNDS=${LROUNDS:-20}
LCPU=${LCPU:-0}
rtt() {	# rtt: p50 p99 lost, through whatever reads queue 0 now
	ip netns exec "$R" taskset -c 0 "$B/bench/udprtt" -s 10.97.0.1 5060 &
	EPID=$!
	sleep 0.3
	ip netns exec "$S" taskset -c 0 "$B/bench/udprtt" 10.97.0.11 \
	    10.97.0.1 5060 "$TMP/invite" "$RTTN"
	kill "$EPID"; wait "$EPID" 2>/dev/null || true
}
queue_to() {	# queue_to N: both rules to queue N
	for c in INPUT OUTPUT; do ip netns exec "$R" iptables -F "$c"; done
	ip netns exec "$R" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
	    --queue-num "$1"
	ip netns exec "$R" iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE \
	    --queue-num "$1"
}
start_sg "$LCPU"
ip netns exec "$R" taskset -c "$LCPU" "$B/bench/nfq_accept" 1 > /dev/null \
    2>&1 &
RPID=$!
sleep 0.5
: > "$TMP/lat"
i=1
while [ "$i" -le "$LROUNDS" ]; do
	queue_to 1
	set -- $(rtt)
	r50=$1 r99=$2
	queue_to 0
	set -- $(rtt)
	echo "$r50 $r99 $1 $2" >> "$TMP/lat"
	i=$((i + 1))
done
queue_to 0
kill "$RPID"; wait "$RPID" || true
RPID=
kill "$PID"; wait "$PID" || true
PID=
awk -v n="$RTTN" -v rounds="$LROUNDS" '
function median(a, k,   i, j, t) {	# sorts a[1..k] in place
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ k++; r50[k] = $1; r99[k] = $2; s50[k] = $3; s99[k] = $4
  d50[k] = $3 - $1; d99[k] = $4 - $2 }
END {
	printf "  latency (%d rounds of %d round trips, one at a time, in" \
	    " turn): bare reader p50 %.1f us, p99 %.1f us; sipguard p50" \
	    " %.1f us, p99 %.1f us: judging adds %.1f us at p50 and %.1f" \
	    " us at p99 (medians over the rounds; two queue passes a" \
	    " trip)\n", rounds, n, median(r50, k), median(r99, k),
	    median(s50, k), median(s99, k), median(d50, k), median(d99, k)
}' "$TMP/lat"

# ---- two queues against one ----------------------------------------------------
# The kernel spreads --queue-balance by addresses: INVITEs from random
# sources (spoofed, 10.98/16), each judged in full (module II training
# the whole time, mode detect: nothing refused before the parse), read by
# one worker on queue 0, then by two on queues 0 and 1.
ip -n "$R" route add 10.98.0.0/16 dev "br$$"
sed 's/^Call-ID: bench-1@/Call-ID: 00000000@/' "$TMP/invite" > "$TMP/invite-s"
run_queues() {	# run_queues COUNT: pkts/s and CPU ns
	for c in INPUT OUTPUT; do ip netns exec "$R" iptables -F "$c"; done
	if [ "$1" -eq 1 ]; then spread="--queue-num 0"; cpus=1
	else spread="--queue-balance 0:1"; cpus=0,1; fi
	ip netns exec "$R" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
	    $spread
	cat > "$TMP/q.conf" <<EOQ
mode = "detect";
proxy: { addresses = [ "10.97.0.1" ]; };
queue: { fail_open = false; maxlen = 8192; count = $1; };
nft: { enabled = false; };
state: { dir = "$TMP"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 3600; };
startup: { learn = 0; };
EOQ
	rm -f "$TMP/state"
	ip netns exec "$R" taskset -c "$cpus" "$B/sipguard" -c "$TMP/q.conf" \
	    2> "$TMP/q.err" &
	PID=$!
	sleep 0.5
	before=$("$B/sipguardctl" -s "$TMP/control" -j stats |
	    sed 's/.*"received":\([0-9]*\).*/\1/')
	c0=$(cpu "$PID")
	ip netns exec "$S" taskset -c 0 "$B/bench/udpflood" 10.98.0.0/16 \
	    10.97.0.1 5060 "$TMP/invite-s" "$SECS" > /dev/null
	sleep 0.2
	c1=$(cpu "$PID")
	after=$("$B/sipguardctl" -s "$TMP/control" -j stats |
	    sed 's/.*"received":\([0-9]*\).*/\1/')
	kill "$PID"; wait "$PID" || true
	PID=
	echo "$(( (after - before) / SECS )) $((c1 - c0))"
}
set -- $(run_queues 1)
one=$1 onecpu=$2
set -- $(run_queues 2)
two=$1 twocpu=$2
awk -v a="$one" -v ac="$onecpu" -v b="$two" -v bc="$twocpu" -v t="$SECS" \
    'BEGIN {
	printf "  queues: one worker %d pkts/s (%.2f us CPU/pkt), two" \
	    " workers %d pkts/s (%.2f us CPU/pkt): %.2f times one, on this" \
	    " 2-CPU machine with the sender on one of them\n", a,
	    ac / 1e3 / (a * t), b, bc / 1e3 / (b * t), b / a }'
