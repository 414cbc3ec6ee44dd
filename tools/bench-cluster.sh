#!/bin/sh
# bench-cluster.sh: make bench-cluster.  A network namespace of its own
# with a redis-server on its loopback (no persistence, a scratch
# directory), and bench/cluster there: two cluster instances in one
# process, propagation A -> B (p50, p99) and the rate of a burst.  Root
# (a namespace keeps the traffic to itself); everything is removed on
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
