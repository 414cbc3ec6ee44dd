#!/bin/sh
# make bench-flood: a spoofed-source REGISTER flood at the fastest rate
# this machine's sender reaches (bench/udpflood, random sources in
# 10.98/16), with DS1 raised, while a bound UE places INVITEs at a steady
# rate.  Three runs, one flood each:
#   reader     a bare accept-all NFQUEUE reader (bench/nfq_accept): its CPU
#              per packet, the reference (one verdict message a packet);
#   reader-b   the same with the daemon's batch verdicts (nfq_accept -b);
#   reader-d   the same dropping every packet, with batch verdicts
#              (nfq_accept -b -d): the kernel's side of a refusal, which
#              the accepting readers do not have (they deliver each packet
#              to the proxy, and read its answer);
#   user space sipguard, admission in user space only (nft.admission_port
#              = 0): every flood packet reaches the queue;
#   kernel     sipguard with admission in the kernel while DS1 holds.
# For each: packets sent, packets that reached the queue rule (iptables'
# counter), packets the queue took (nfnetlink_queue's id sequence), the
# difference (passed unjudged by fail-open, or dropped by a full queue),
# what the kernel's admission limit took (its counter), the INVITEs that
# reached the proxy, and the reader's or daemon's CPU per packet.
# Root only; two namespaces made here and removed.
set -eu
B=${B:-build}
SECS=${SECS:-5}
RATE=${RATE:-20}	# the UE's INVITEs a second, in training and after
TMP=$(mktemp -d --suffix=.sgflood)
S=sgfs$$
R=sgfr$$
A=sgfa$$
NODE="python3 $(dirname "$0")/../tests/sipnode.py"

cleanup() {
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$R" 2>/dev/null || true
	ip netns del "$A" 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || { echo "bench-flood: needs root" >&2; exit 1; }
ip netns add "$S"
ip netns add "$R"
ip netns add "$A"
ip link add "fs$$" type veth peer name "fr$$"
ip link add "fa$$" type veth peer name "fb$$"
ip link set "fs$$" netns "$S"
ip link set "fr$$" netns "$R"
ip -n "$S" link set "fs$$" address 02:5b:00:00:00:11
ip -n "$R" link set "fr$$" address 02:5b:00:00:00:01
ip -n "$S" addr add 10.97.0.11/24 dev "fs$$"
ip -n "$R" addr add 10.97.0.1/24 dev "fr$$"
for n in "$S" "$R"; do ip -n "$n" link set lo up; done
ip -n "$S" link set "fs$$" up
ip -n "$R" link set "fr$$" up
# The attacker on a link of its own (its own MAC, as behind another
# port); its spoofed sources are routed back through that link: no
# rp_filter drop before the queue rule.
ip link set "fa$$" netns "$A"
ip link set "fb$$" netns "$R"
ip -n "$A" link set "fa$$" address 02:5b:00:00:00:66
ip -n "$R" link set "fb$$" address 02:5b:00:00:00:02
ip -n "$A" addr add 10.98.0.66/16 dev "fa$$"
ip -n "$R" addr add 10.98.0.1/16 dev "fb$$"
ip -n "$A" link set lo up
ip -n "$A" link set "fa$$" up
ip -n "$R" link set "fb$$" up
ip -n "$A" route add 10.97.0.0/24 dev "fa$$"
ip netns exec "$R" iptables -A INPUT -p udp --dport 5060 -j NFQUEUE \
    --queue-num 0 --queue-bypass
ip netns exec "$R" iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE \
    --queue-num 0 --queue-bypass

crlf() { printf '%s\r\n' "$@"; }
crlf "REGISTER sip:lab.example SIP/2.0" \
    "Via: SIP/2.0/UDP 10.98.0.1:5060;branch=z9hG4bK-sf1" \
    "Max-Forwards: 70" "From: <sip:u@lab.example>;tag=f1" \
    "To: <sip:u@lab.example>" "Call-ID: sf-00000000@lab.example" \
    "CSeq: 1 REGISTER" "Contact: <sip:u@10.98.0.1:5060>" "Expires: 3600" \
    "Content-Length: 0" "" > "$TMP/register"

# CPU time of a process, all its threads, in ns: the scheduler's own
# count (schedstat), exact (utime and stime are sampled at the tick).
cpu() {
	cat "/proc/$1"/task/*/schedstat |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}
# Packets the queue rules (INPUT, OUTPUT) matched; packets queue 0 took.
rule() {
	ip netns exec "$R" iptables -L -v -x -n |
	    awk '/NFQUEUE/ { n += $1 } END { print n + 0 }'
}
taken() {
	ip netns exec "$R" awk '$1 == 0 { print $8 }' \
	    /proc/net/netfilter/nfnetlink_queue
}
limited() {
	ip netns exec "$R" nft list chain inet sipguard admit 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1
}
# Packets the kernel dropped for a full backlog (all CPUs): before any
# hook, the sender outrunning the receiving CPU.
backlog() {
	n=0
	for h in $(awk '{ print $2 }' /proc/net/softnet_stat); do
		n=$((n + 0x$h))
	done
	echo "$n"
}
# The UE's INVITEs: RATE a second for $1 seconds, each its own Call-ID.
invites() {
	ip netns exec "$S" taskset -c 1 python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.97.0.11', 5060))
rate, secs, tag = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
t0 = time.time(); n = 0
while time.time() - t0 < secs:
    while n < (time.time() - t0) * rate:
        m = ('INVITE sip:bob@lab.example SIP/2.0\r\n'
             'Via: SIP/2.0/UDP 10.97.0.11:5060;branch=z9hG4bK-%s-%d\r\n'
             'Max-Forwards: 70\r\nFrom: <sip:alice@lab.example>;tag=a%d\r\n'
             'To: <sip:bob@lab.example>\r\nCall-ID: %s-%d@lab\r\n'
             'CSeq: 1 INVITE\r\nContact: <sip:alice@10.97.0.11:5060>\r\n'
             'Content-Length: 0\r\n\r\n') % (tag, n, n, tag, n)
        s.sendto(m.encode(), ('10.97.0.1', 5060)); n += 1
    time.sleep(0.005)
print(n)" "$RATE" "$1" "$2"
}
reached() { grep -c " $1-[0-9]*@lab\$" "$TMP/proxy.log" || true; }

flood() {
	ip netns exec "$A" taskset -c 0 "$B/bench/udpflood" 10.98.0.0/16 \
	    10.97.0.1 5060 "$TMP/register" "$SECS"
}

# measure NAME PID: the flood with the UE's INVITEs beside it.  CPU per
# queued packet over the whole flood, and over its steady part: from
# WARM seconds in (DS1 rises within the flood's first second; before it,
# every flood packet is parsed and judged in full) to the end; whether
# DS1 held at the start of that part (the daemon's stats).
WARM=${WARM:-2}
measure() {
	r0=$(rule); q0=$(taken); c0=$(cpu "$2"); b0=$(backlog)
	invites "$((SECS + 1))" "$1" > "$TMP/inv.$1" &
	ipid=$!
	sleep 0.5
	flood > "$TMP/sent" &
	fpid=$!
	sleep "$WARM"
	qm=$(taken); cm=$(cpu "$2")
	if [ -S "$TMP/control" ] && [ "${1#reader}" = "$1" ]; then
		ds1=$("$B/sipguardctl" -s "$TMP/control" -j stats |
		    grep -c '"ds1":true' || true)
	else
		ds1=-
	fi
	wait "$fpid"
	sent=$(cat "$TMP/sent")
	wait "$ipid"
	sleep 0.5
	r1=$(rule); q1=$(taken); c1=$(cpu "$2"); b1=$(backlog)
	lim=$(limited)
	echo "$1 $sent $((r1 - r0)) $((q1 - q0)) ${lim:-0} $((c1 - c0))" \
	    "$(cat "$TMP/inv.$1") $(reached "$1") $((b1 - b0))" \
	    "$((q1 - qm)) $((c1 - cm)) $ds1" >> "$TMP/results"
}

# A fresh proxy for each run: the last run's flood may still fill the
# old one's socket.
proxy() {
	[ -n "${PPID_:-}" ] && { kill "$PPID_" 2>/dev/null || true; }
	# The proxy and the UE off the sender's CPU: a sender at full rate
	# would starve them there, and that is not what is measured.
	ip netns exec "$R" taskset -c 1 $NODE registrar 10.97.0.1 5060 \
	    "$TMP/proxy.log" &
	PPID_=$!
	PIDS="${PIDS:-} $PPID_"
	sleep 0.3
}

run_reader() {	# run_reader NAME [OPTIONS of nfq_accept]
	proxy
	ip netns exec "$R" taskset -c 1 "$B/bench/nfq_accept" ${2:-} 0 \
	    > /dev/null 2> "$TMP/reader.$1" &
	RPID=$!
	PIDS="${PIDS:-} $RPID"
	sleep 0.5
	measure "$1" "$RPID"
	kill "$RPID"; wait "$RPID" 2>/dev/null || true
	# Packets a batch: a reader woken for every packet or two pays its
	# system calls for each (the daemon's: packets over verdict
	# messages, at most one a batch when every verdict is a drop).
	awk '{ printf "  %s: %.1f packets a batch\n", n,
	    $2 / ($5 > 0 ? $5 : 1) }' n="$1" "$TMP/reader.$1" >> "$TMP/batches"
}

run_sg() {	# run_sg NAME ADMISSION_PORT
	rm -rf "$TMP/state"; mkdir "$TMP/state"
	cat > "$TMP/sg.conf" <<EOC
proxy: { addresses = [ "10.97.0.1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 4; };
startup: { learn = 0; };
log: { aggregate = 10; };
nft: { admission_port = $2; };
EOC
	proxy
	ip netns exec "$R" taskset -c 1 "$B/sipguard" -f -c "$TMP/sg.conf" \
	    2> "$TMP/sg.$1.log" &
	SPID=$!
	PIDS="${PIDS:-} $SPID"
	sleep 0.5
	ip netns exec "$S" $NODE send 10.97.0.11 10.97.0.1 REGISTER alice \
	    "reg-$1" > /dev/null || {
		echo "bench-flood: the UE could not register" >&2
		sed 's/^/  | /' "$TMP/sg.$1.log" >&2
		exit 1
	}
	# Training: the UE at its steady rate.
	invites 5 "train$1" > /dev/null
	measure "$1" "$SPID"
	"$B/sipguardctl" -s "$TMP/control" stats > "$TMP/stats.$1"
	"$B/sipguardctl" -s "$TMP/control" -j stats | sed -n \
	    's/.*"received":\([0-9]*\),.*"verdict_msgs":\([0-9]*\).*/\1 \2/p' |
	    awk '{ printf "  %s: %.1f packets a verdict message\n", n,
	    $1 / ($2 > 0 ? $2 : 1) }' n="$1" >> "$TMP/batches"
	kill "$SPID"; wait "$SPID" 2>/dev/null || true
}

echo "bench-flood: ${SECS} s spoofed-source REGISTER floods (random" \
    "sources in 10.98/16), a bound UE's INVITEs at ${RATE}/s beside" \
    "them; sender on CPU 0, reader or daemon on CPU 1"
run_reader reader
run_reader reader-b -b
run_reader reader-d "-b -d"
run_sg user 0
run_sg kernel 5060
awk -v secs="$SECS" -v warm="$WARM" '
{ name[NR] = $1; sent[NR] = $2; rule[NR] = $3; took[NR] = $4
  lim[NR] = $5; cpu[NR] = $6; inv[NR] = $7; got[NR] = $8; bl[NR] = $9
  stook[NR] = $10; scpu[NR] = $11; ds1[NR] = $12 }
function per(c, n) { return c / 1e3 / (n > 0 ? n : 1) }
END {
	ref = per(scpu[1], stook[1])
	refb = per(scpu[2], stook[2])
	refd = per(scpu[3], stook[3])
	printf "  %-8s %8s %8s %8s %8s %8s %8s %6s | %8s %4s %6s %6s %6s" \
	    " %6s %5s %7s\n", "run", "sent", "backlog", "at rule", "queued",
	    "unjudged", "limited", "us/pkt", "steady", "DS1", "us/pkt",
	    "x rdr", "x rdrb", "x rdrd", "CPU", "INVITEs"
	for (i = 1; i <= NR; i++) {
		s = per(scpu[i], stook[i])
		d = ds1[i] == "1" ? "yes" : (ds1[i] == "0" ? "no" : "-")
		printf "  %-8s %8d %8d %8d %8d %8d %8d %6.2f | %8d %4s %6.2f" \
		    " %6.2f %6.2f %6.2f %4.0f%% %3d/%-3d\n", name[i], sent[i],
		    bl[i], rule[i], took[i], rule[i] - took[i], lim[i],
		    per(cpu[i], took[i]), stook[i], d, s, s / ref, s / refb,
		    s / refd,
		    cpu[i] / 1e9 / (secs + 1) * 100, got[i], inv[i]
	}
	printf "  (%d pkts/s offered.  backlog: dropped by the kernel before" \
	    " any hook, the receiving CPU outrun; unjudged: reached the" \
	    " queue rule but not the queue (fail-open); us/pkt: CPU per" \
	    " queued packet, over the whole run, then (right of |) over" \
	    " the steady part of the flood, from %d s in: packets queued" \
	    " then, DS1 raised at its start, CPU per packet, times the" \
	    " reader'"'"'s, the batching reader'"'"'s and the dropping" \
	    " reader'"'"'s; CPU: of one core, flood and INVITEs)\n",
	    sent[1] / secs, warm
}' "$TMP/results"
cat "$TMP/batches"
for n in user kernel; do
	printf '  %s: ' "$n"
	grep -o 'DS1 [a-z]* *[0-9]*' "$TMP/stats.$n" | head -1 || true
	grep -c 'admission in the kernel on' "$TMP/sg.$n.log" |
	    sed 's/^/    kernel admission came on: /'
done

# ---- 10,000 offenders listed at once ------------------------------------------
# Forged INVITEs in alice's name, each from another spoofed address: each
# is dropped and its spoof tuple K listed (module I; K entries stay in
# user space).  The longest a batch of packets waited for its verdicts
# (sipguardctl stats): wall time, so on a shared machine it also counts
# the worker's preemption by other processes on its CPU.  Twice: the
# daemon as it is, then under SCHED_FIFO (chrt -f 10: nothing of normal
# priority preempts it), which leaves what the daemon itself does (its
# work, its locks) in the figure.
N=${LISTED:-10000}
crlf "INVITE sip:bob@lab.example SIP/2.0" \
    "Via: SIP/2.0/UDP 10.98.0.1:5060;branch=z9hG4bK-ls1" \
    "Max-Forwards: 70" "From: <sip:alice@lab.example>;tag=x1" \
    "To: <sip:bob@lab.example>" "Call-ID: ls-00000000@lab.example" \
    "CSeq: 1 INVITE" "Contact: <sip:alice@10.98.0.1:5060>" \
    "Content-Length: 0" "" > "$TMP/forged"
listing() {	# listing NAME [chrt ...]: the burst, and what it stalled
	name=$1
	shift
	rm -rf "$TMP/state"; mkdir "$TMP/state"
	cat > "$TMP/sg.conf" <<EOC
proxy: { addresses = [ "10.97.0.1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 3600; };
startup: { learn = 0; };
log: { aggregate = 10; };
nft: { admission_port = 0; };
EOC
	proxy
	ip netns exec "$R" taskset -c 1 "$@" "$B/sipguard" -f \
	    -c "$TMP/sg.conf" 2> "$TMP/sg.list.log" &
	SPID=$!
	PIDS="${PIDS:-} $SPID"
	sleep 0.5
	ip netns exec "$S" $NODE send 10.97.0.11 10.97.0.1 REGISTER alice \
	    reg-ls > /dev/null
	invites 2 warm > /dev/null
	stall0=$("$B/sipguardctl" -s "$TMP/control" -j stats |
	    sed -n 's/.*"stall_us":\([0-9]*\).*/\1/p')
	t0=$(date +%s%N)
	sent=$(ip netns exec "$A" taskset -c 0 "$B/bench/udpflood" \
	    10.98.0.0/16 10.97.0.1 5060 "$TMP/forged" 5 "$N")
	t1=$(date +%s%N)
	sleep 0.5
	"$B/sipguardctl" -s "$TMP/control" -j stats > "$TMP/stats.list"
	listed=$(sed -n 's/.*"blacklist":\[\([0-9]*\),.*/\1/p' \
	    "$TMP/stats.list")
	stall=$(sed -n 's/.*"stall_us":\([0-9]*\).*/\1/p' "$TMP/stats.list")
	echo "  listing ($name): $sent forged INVITEs from distinct sources" \
	    "in $(( (t1 - t0) / 1000000 )) ms; $listed listed; longest wait" \
	    "of a batch for its verdicts ${stall} us (before the burst:" \
	    "${stall0} us)"
	kill "$SPID"; wait "$SPID" 2>/dev/null || true
}
listing "as is"
if command -v chrt > /dev/null; then
	listing "SCHED_FIFO" chrt -f 10
fi

# The kernel's side at that scale.  The listings above name identities
# (spoof tuples K), which stay in user space; a flood offender's (m, i)
# goes to the kernel's set through a queue the main loop sends in
# transactions of 64 each tick.  N (m, i) entries queued at once (in a
# state file, restored at start: the same queue, the same sends), and
# the time from the daemon's control socket (it reads the queue) to the
# last of them in blk4.
rm -rf "$TMP/state"; mkdir "$TMP/state"
python3 - "$TMP/state/state" "$N" <<'PYEOF'
import sys, time
now = time.time_ns()
with open(sys.argv[1], "w") as f:
    f.write("sipguard-state 1\nkey " + "5a" * 16 + "\n")
    for k in range(int(sys.argv[2])):
        mac = "02:5d:00:%02x:%02x:%02x" % (k >> 16 & 255, k >> 8 & 255, k & 255)
        ip = "0a63%04x" % k + "00" * 12
        f.write("l 2 %s 4/%s 0 0/%s 0000000000000000 %d %d bench -\n"
                % (mac, ip, "00" * 16, now, now + 3600 * 10**9))
    f.write("end\n")
PYEOF
cat > "$TMP/sg.conf" <<EOC
proxy: { addresses = [ "10.97.0.1" ]; };
state: { dir = "$TMP/state"; interval = 0; };
control: { socket = "$TMP/control"; };
training: { duration = 3600; };
EOC
rm -f "$TMP/control"
ip netns exec "$R" taskset -c 1 "$B/sipguard" -f -c "$TMP/sg.conf" \
    2> "$TMP/sg.restore.log" &
SPID=$!
PIDS="${PIDS:-} $SPID"
n=0
while [ ! -S "$TMP/control" ] && [ "$n" -lt 500 ]; do
	sleep 0.01
	n=$((n + 1))
done
t1=$(date +%s%N)
inset=0
while :; do
	inset=$(ip netns exec "$R" nft list set inet sipguard blk4 2>/dev/null |
	    grep -c '02:5d:')
	t2=$(date +%s%N)
	[ "$inset" -ge "$N" ] || [ $((t2 - t1)) -gt 5000000000 ] && break
	sleep 0.02
done
# What one look costs (counted in the figure: it is polled).
t3=$(date +%s%N)
ip netns exec "$R" nft list set inet sipguard blk4 > /dev/null
t4=$(date +%s%N)
restored=$("$B/sipguardctl" -s "$TMP/control" -j stats |
    sed -n 's/.*"blacklist":\[\([0-9]*\),.*/\1/p')
echo "  kernel set: $restored (m, i) entries queued at once (restored at" \
    "start), $inset in blk4 $(( (t2 - t1) / 1000000 )) ms after the" \
    "daemon read its queue (one look at the set takes" \
    "$(( (t4 - t3) / 1000000 )) ms of that)"
kill "$SPID"; wait "$SPID" 2>/dev/null || true
