#!/bin/sh
# e2e_sentinel.sh: the cluster follows a Redis failover through Sentinel
# (cluster.sentinels, cluster.master).  A Redis master and its replica,
# two redis-sentinel processes (quorum 1, down after 1 s) in one network
# namespace made here, two sipguard nodes in two others, on one bridge.
# Shows: both nodes find the master through Sentinel and share a
# listing; the master killed, Sentinel promotes the replica and both
# nodes follow it (ROLE checked), keep the entry, and share a new one
# through the new master.  The Sentinels require a password of their own
# (cluster.sentinel_password_file); a node with a wrong one says why it
# is down.  Root only (exit 77 otherwise); everything is
# removed on exit.
set -u
SG=${SIPGUARD:-build/sipguard}
CTL=$(dirname "$SG")/sipguardctl
ID=$$
BR=sgsb$ID
R=sgsr$ID
A=sgsa$ID
B=sgsb2$ID
TMP=$(mktemp -d --suffix=.sgsentinel)
PIDS=""
MPID=""
FAIL=0
STEP=0
RIP=10.98.0.3
SPW=sentinel-pw-$ID

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_sentinel: SKIPPED: needs root (network namespaces)"
	exit 77
fi
if ! command -v redis-server >/dev/null 2>&1 ||
    ! command -v redis-sentinel >/dev/null 2>&1; then
	echo "e2e_sentinel: SKIPPED: redis-server or redis-sentinel not" \
	    "installed (make deps)"
	exit 77
fi

cleanup() {
	for p in $PIDS $MPID; do kill -9 "$p" 2>/dev/null; done
	for n in "$A" "$B" "$R" "$BR"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	if [ "$FAIL" -gt 0 ] || [ -n "${SHOWLOG:-}" ]; then
		for f in "$TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "e2e_sentinel: $f:"
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
rcli() { p=$1; shift; ip netns exec "$R" redis-cli -h $RIP -p "$p" "$@"; }
# A Sentinel's, with its password.
scli() { p=$1; shift; rcli "$p" --no-auth-warning -a "$SPW" "$@"; }
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
# on N PORT: node N connected to the master at PORT.
on() { ctl "$1" cluster | grep -q '^cluster: connected$' &&
    ctl "$1" cluster | grep -q "^redis $RIP:$2 (master m1)"; }
sentinels_ready() {
	[ "$(scli 26379 sentinel replicas m1 | grep -c '^ip$')" -ge 1 ] &&
	[ "$(scli 26379 sentinel sentinels m1 | grep -c '^ip$')" -ge 1 ] &&
	[ "$(scli 26380 sentinel sentinels m1 | grep -c '^ip$')" -ge 1 ]
}

for n in "$BR" "$R" "$A" "$B"; do ip netns add "$n"; done
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
i=1
for n in "$R" "$A" "$B"; do
	ip link add "s$ID$i" type veth peer name "t$ID$i"
	ip link set "s$ID$i" netns "$n"
	ip link set "t$ID$i" netns "$BR"
	ip -n "$BR" link set "t$ID$i" master br0 up
	ip -n "$n" link set "s$ID$i" name eth0
	ip -n "$n" addr add 10.98.0.$((i + 2))/24 dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" link set lo up
	i=$((i + 1))
done

# redis PORT [ARGS]: a Redis in the namespace, no persistence.
redis() {
	p=$1; shift
	ip netns exec "$R" redis-server --bind $RIP --port "$p" \
	    --protected-mode no --save "" --appendonly no --dir "$TMP" \
	    --dbfilename "dump-$p.rdb" "$@" >> "$TMP/redis-$p.log" 2>&1 &
}
# Sentinel rewrites its file: one each, in the scratch directory.
sentinel() {
	cat > "$TMP/sentinel-$1.conf" <<EOF
port $1
bind $RIP
protected-mode no
requirepass $SPW
dir $TMP
sentinel monitor m1 $RIP 6379 1
sentinel down-after-milliseconds m1 1000
sentinel failover-timeout m1 6000
EOF
	ip netns exec "$R" redis-sentinel "$TMP/sentinel-$1.conf" \
	    >> "$TMP/sentinel-$1.log" 2>&1 &
	PIDS="$PIDS $!"
}

# Redis 7 syncs a new replica diskless after repl-diskless-sync-delay
# (5 s by default, to gather more replicas): no wait here.
redis 6379 --repl-diskless-sync-delay 0
MPID=$!
check "a Redis master starts" "within 5 rcli 6379 ping"
redis 6380 --replicaof $RIP 6379
PIDS="$PIDS $!"
check "its replica starts and follows it" \
    "within 15 sh -c \"ip netns exec $R redis-cli -h $RIP -p 6380 info replication | grep -q master_link_status:up\""
sentinel 26379
sentinel 26380
check "two Sentinels know the master, its replica and each other" \
    "within 15 sentinels_ready"

umask 077
printf '%s\n' "$SPW" > "$TMP/sentinel.pw"
printf 'wrong-%s\n' "$SPW" > "$TMP/sentinel-wrong.pw"
for n in A B C; do
	pwf=$TMP/sentinel.pw
	[ $n = C ] && pwf=$TMP/sentinel-wrong.pw
	cat > "$TMP/$n.conf" <<EOF
state: { dir = "$TMP/state-$n"; };
control: { socket = "$TMP/control-$n"; };
cluster: {
	enabled = true;
	node = "node-$n";
	sentinels = "$RIP:26379, $RIP:26380";
	master = "m1";
	sentinel_password_file = "$pwf";
	timeout = 1;
};
EOF
done
start_sg() {
	ip netns exec "$2" "$SG" -f -c "$TMP/$1.conf" >> "$TMP/sg-$1.log" \
	    2>&1 &
	PIDS="$PIDS $!"
	within 3 ctl "$1" ping
}
check "the configuration checks (sipguard -t)" \
    "$SG -t -c $TMP/A.conf >/dev/null 2>&1"
check "node A starts" "start_sg A $A"
check "node B starts" "start_sg B $B"
check "A finds the master through Sentinel (port 6379)" "within 5 on A 6379"
check "B finds the master through Sentinel (port 6379)" "within 5 on B 6379"
check "a node with a wrong Sentinel password starts" "start_sg C $A"
check "it says DOWN, naming the Sentinel's refusal" \
    "within 5 sh -c \"'$CTL' -s '$TMP/control-C' cluster | grep -q '^cluster: DOWN.*Sentinel AUTH: WRONGPASS'\""
M1=02:5c:00:00:11:66
ctl A blacklist add $M1 10.98.9.66 >/dev/null
check "a listing at A reaches B" "within 1 listed B $M1 10.98.9.66"
check "the replica has it too" \
    "within 2 sh -c \"[ \\\$(ip netns exec $R redis-cli -h $RIP -p 6380 exists sipguard:bl:mi:$M1:10.98.9.66:0) = 1 ]\""

# ---- failover ------------------------------------------------------------------
kill -9 "$MPID"
t0=$(date +%s)
check "Sentinel promotes the replica (port 6380 answers ROLE master)" \
    "within 20 sh -c \"ip netns exec $R redis-cli -h $RIP -p 6380 role | head -1 | grep -qx master\""
check "A follows the new master (port 6380)" "within 20 on A 6380"
check "B follows the new master (port 6380)" "within 20 on B 6380"
echo "# both nodes on the new master $(($(date +%s) - t0)) s after the kill"
check "B still holds the entry" "listed B $M1 10.98.9.66"
M2=02:5c:00:00:12:66
ctl A blacklist add $M2 10.98.9.67 >/dev/null
check "a listing at A after the failover reaches B" \
    "within 1 listed B $M2 10.98.9.67"
check "A logged the new master's address" \
    "grep -q \"Sentinel names m1's master at $RIP port 6380\" $TMP/sg-A.log"

echo "1..$STEP"
[ "$FAIL" -eq 0 ]
