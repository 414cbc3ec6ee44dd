#!/bin/bash
# e2e_cluster_kamailio.sh: bindings shared across the cluster in front of
# real Kamailio (issue 14).  Two proxies, each a Kamailio
# (tests/lab/kamailio.cfg, its own db_text copy of the same subscribers)
# with a sipguard in front of it on the proxy host (NFQUEUE on INPUT and
# OUTPUT), the two daemons sharing one redis-server; both on one bridge,
# so on one segment (cluster.segment "lan").  alice registers through
# Kamailio A only; bob through Kamailio B.  alice then calls bob through
# Kamailio B with SIPp: the call completes, and B judged alice's requests
# as case vii (the binding it got from A), nothing dropped.  Controls:
# B's table had no alice before A shared her; carol, registered nowhere,
# calling from alice's phone through B is dropped (the call fails).
# Namespaces and links named with this run's pid; root only (exit 77
# otherwise); everything is killed and removed on any exit; every wait
# bounded.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SG=$(realpath "${SIPGUARD:-$ROOT/build/sipguard}")
CTL=$(dirname "$SG")/sipguardctl
LAB=$ROOT/tests/lab
ID=$$
BR=sgkbr$ID
R=sgkr$ID
KA=sgka$ID
KB=sgkb$ID
U1=sgku1$ID
U2=sgku2$ID
NETNS="$BR $R $KA $KB $U1 $U2"
STEP=0
FAIL=0
PW=pw$ID$(date +%N)

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e_cluster_kamailio: SKIPPED: needs root (network namespaces)"
	exit 77
fi
for c in kamailio sipp redis-server redis-cli md5sum; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "e2e_cluster_kamailio: SKIPPED: $c not installed (make deps)"
		exit 77
	fi
done
TMP=$(mktemp -d --suffix=.sgclkam)

cleanup() {
	local p n
	for n in $NETNS; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	for n in $NETNS; do ip netns del "$n" 2>/dev/null; done
	if [ "$FAIL" -gt 0 ] || [ -n "${SHOWLOG:-}" ]; then
		for f in "$TMP"/sg-*.log "$TMP"/kam-*/kamailio.log; do
			[ -f "$f" ] || continue
			echo "e2e_cluster_kamailio: $f:"
			tail -n 40 "$f" | sed 's/^/  | /'
		done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { n=$1; shift; "$CTL" -s "$TMP/control-$n" "$@"; }
# within SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
within() {
	local t=$(($1 * 10))
	shift
	while [ "$t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
port_busy() { [ -n "$(ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null)" ]; }

# ---- the network: one bridge, Redis, two proxy hosts, two phones -------------
for n in $NETNS; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "$BR" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$BR" link set br0 up
# name address MAC (made inside the bridge's namespace, the peer moved
# straight into the node's: nothing in the root namespace)
k=0
while read -r n addr mac; do
	k=$((k + 1))
	ip -n "$BR" link add "p$k" type veth peer name eth0 netns "$n"
	ip -n "$BR" link set "p$k" master br0 up
	ip -n "$n" link set eth0 address "$mac"
	ip -n "$n" addr add "$addr/24" dev eth0
	ip -n "$n" link set eth0 up
done <<EOF
$R 10.96.0.3 02:5d:00:00:00:03
$KA 10.96.0.1 02:5d:00:00:00:01
$KB 10.96.0.2 02:5d:00:00:00:02
$U1 10.96.0.11 02:5d:00:00:00:11
$U2 10.96.0.12 02:5d:00:00:00:12
EOF

setsid -f ip netns exec "$R" redis-server --bind 10.96.0.3 --port 6379 \
    --requirepass "$PW" --save "" --appendonly no --dir "$TMP" \
    --daemonize no > "$TMP/redis.log" 2>&1 < /dev/null
umask 077
printf '%s\n' "$PW" > "$TMP/redis.pw"
umask 022
check "redis-server answers in its namespace" \
    "within 5 ip netns exec $R redis-cli -h 10.96.0.3 --no-auth-warning -a $PW ping"

# ---- two Kamailio, the same subscribers --------------------------------------
# kam N NETNS ADDRESS: Kamailio N, started, answering on UDP 5060.
kam() {
	local d=$TMP/kam-$1 i=1 u ha1 ha1b
	mkdir -p "$d/db" "$d/run"
	{
		echo "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) "
		for u in alice bob carol; do
			ha1=$(printf '%s' "$u:lab.example:secret" | md5sum | cut -c1-32)
			ha1b=$(printf '%s' "$u@lab.example:lab.example:secret" | md5sum | cut -c1-32)
			echo "$i:$u:lab.example:secret:$ha1:$ha1b"
			i=$((i + 1))
		done
	} > "$d/db/subscriber"
	printf '%s\n' "id(int,auto) table_name(string) table_version(int) " \
	    "1:subscriber:7" > "$d/db/version"
	sed -e "s|@LAB_DB@|$d/db|g" -e "s|@PROXY_IP4@|$3|g" \
	    -e "s|@PROXY_IP6@|::1|g" -e "s|@DOMAIN@|lab.example|g" \
	    -e "s|@CHILDREN@|2|g" "$LAB/kamailio.cfg" > "$d/kamailio.cfg"
	kamailio -c -f "$d/kamailio.cfg" > "$d/check.log" 2>&1 || return 1
	setsid -f ip netns exec "$2" kamailio -f "$d/kamailio.cfg" \
	    -P "$d/kamailio.pid" -Y "$d/run" -w "$d/run" -m 32 -M 8 -DD -E \
	    --debug=1 < /dev/null >> "$d/kamailio.log" 2>&1
	within 10 port_busy "$2" 5060
}
check "Kamailio A starts (10.96.0.1)" "kam A $KA 10.96.0.1"
check "Kamailio B starts (10.96.0.2)" "kam B $KB 10.96.0.2"

# ---- a sipguard in front of each, sharing Redis --------------------------------
# sg N NETNS ADDRESS: the queue rules on the proxy host, then the daemon.
sg() {
	local t
	for t in INPUT OUTPUT; do
		local dir=--dport
		[ $t = OUTPUT ] && dir=--sport
		ip netns exec "$2" iptables -A $t -p udp $dir 5060 -j NFQUEUE \
		    --queue-num 0 --queue-bypass
	done
	cat > "$TMP/$1.conf" <<EOF2
proxy: { addresses = [ "$3" ]; };
state: { dir = "$TMP/state-$1"; interval = 0; };
control: { socket = "$TMP/control-$1"; };
startup: { learn = 0; };
log: { aggregate = 0; };
cluster: {
	enabled = true;
	node = "kam-$1";
	segment = "lan";
	redis = "10.96.0.3:6379";
	password_file = "$TMP/redis.pw";
};
EOF2
	setsid -f ip netns exec "$2" "$SG" -f -c "$TMP/$1.conf" \
	    >> "$TMP/sg-$1.log" 2>&1 < /dev/null
	within 5 sh -c "'$CTL' -s '$TMP/control-$1' cluster | grep -q '^cluster: connected$'"
}
check "sipguard A starts in front of Kamailio A, connected to Redis" \
    "sg A $KA 10.96.0.1"
check "sipguard B starts in front of Kamailio B, connected to Redis" \
    "sg B $KB 10.96.0.2"

# ---- SIPp ------------------------------------------------------------------------
mkdir -p "$TMP/sipp"
# sipp_run NETNS LOCAL_IP TAG SCENARIO REMOTE PORT SECONDS [ARGS...]
# One SIPp call, bounded by -timeout and timeout(1); REMOTE "": a UAS.
sipp_run() {
	local ns=$1 lip=$2 tag=$3 sc=$4 remote=$5 port=$6 secs=$7
	shift 7
	local -a pre=()
	[ -n "$remote" ] && pre+=("$remote")
	(
		cd "$TMP/sipp" || exit 1
		exec timeout -k 2 $((secs + 5)) ip netns exec "$ns" sipp \
		    "${pre[@]}" -p "$port" -sf "$LAB/$sc.xml" -t u1 -i "$lip" \
		    -m 1 -key domain lab.example -nostdin -timeout "${secs}s" \
		    -timeout_error -trace_err -error_file "$TMP/sipp/$tag.err" \
		    "$@" < /dev/null > "$TMP/sipp/$tag.out" 2>&1
	)
}
# register NETNS IP USER PROXY: 0 only if Kamailio said 200.
register() {
	sipp_run "$1" "$2" "reg-$3" reg "$4:5060" 5060 10 -s "$3" -au "$3" \
	    -ap secret -auth_uri lab.example -key contact_port 5060 \
	    -key expires 3600
}
# call CALLER CALLEE PROXY SECONDS: ua1 calls ua2 (a UAS answering as
# CALLEE on 5060) through PROXY; 0 only if both ends completed.
call() {
	local uas rc=1
	sipp_run "$U2" 10.96.0.12 "uas-$1" uas "" 5060 $(($4 + 12)) -s "$2" \
	    -mp 16000 -key sdp_af 4 -key sdp_ip 10.96.0.12 &
	uas=$!
	within 5 port_busy "$U2" 5060 || { kill "$uas"; wait "$uas"; return 1; }
	if sipp_run "$U1" 10.96.0.11 "uac-$1" uac "$3:5060" 5060 $(($4 + 6)) \
	    -s "$1" -au "$1" -ap secret -auth_uri "$2@lab.example" \
	    -key callee "$2" -d 1000 -mp 16100 -key sdp_af 4 \
	    -key sdp_ip 10.96.0.11; then
		wait "$uas" && rc=0
	else
		kill "$uas" 2>/dev/null
		wait "$uas" 2>/dev/null
	fi
	return $rc
}
# stat NODE "accept"|"drop" REASON: that counter in the node's JSON stats
stat() {
	ctl "$1" -j stats | grep -o "\"$2\":{[^}]*}" | grep -o "\"$3\":[0-9]*" |
	    cut -d: -f2 | grep . || echo 0
}
dropped() { ctl "$1" -j stats | grep -o '"dropped":[0-9]*' | head -n 1 | cut -d: -f2; }

# ---- alice registers through A only, bob through B -----------------------------
check "B holds no binding of alice before anything is shared" \
    "! ctl B bindings | grep -q alice@lab.example"
check "alice registers through Kamailio A (SIPp, digest, 200)" \
    "register $U1 10.96.0.11 alice 10.96.0.1"
check "sipguard A learned her binding from Kamailio's 200 OK" \
    "within 1 sh -c \"'$CTL' -s '$TMP/control-A' bindings | grep -q 'alice@lab.example .*02:5d:00:00:00:11 10.96.0.11'\""
check "sipguard B has it within a second, with her MAC (same segment)" \
    "within 1 sh -c \"'$CTL' -s '$TMP/control-B' bindings | grep -q 'alice@lab.example .*02:5d:00:00:00:11 10.96.0.11'\""
check "bob registers through Kamailio B" \
    "register $U2 10.96.0.12 bob 10.96.0.2"

# ---- alice calls bob through B -----------------------------------------------------
v0=$(stat B accept vii)
d0=$(dropped B)
check "alice calls bob through Kamailio B: the call completes (INVITE, 200, ACK, BYE)" \
    "call alice bob 10.96.0.2 1"
v1=$(stat B accept vii)
check "B judged her requests and bob's answers case vii ($((v1 - v0)) messages), dropped none" \
    "[ $((v1 - v0)) -ge 6 ] && [ \"\$(dropped B)\" = $d0 ]"
check "no alarm at B for alice's address" \
    "! grep -q 'alarm .*ip=10.96.0.11 ' $TMP/sg-B.log"

# ---- control: an identity registered nowhere, from alice's phone -------------------
check "carol (registered nowhere) calling bob through B from alice's phone fails" \
    "! call carol bob 10.96.0.2 1"
check "B dropped her INVITE (alice's device, another identity: case vi)" \
    "grep -q 'case=vi action=[a-z]* mac=02:5d:00:00:00:11 ip=10.96.0.11 .*identity=carol@lab.example method=INVITE' $TMP/sg-B.log"
check "both Kamailio are still running" \
    "port_busy $KA 5060 && port_busy $KB 5060"

echo "e2e_cluster_kamailio: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
