#!/bin/sh
# test_live.sh: the live daemon in network namespaces made here (issue 5):
# a UA, an attacker and a proxy on one bridge; iptables NFQUEUE rules with
# --queue-bypass in the proxy's namespace; sipguard running there in
# front of a minimal registrar (tests/sipnode.py).  Checks verdicts,
# alarms, the kernel blacklist, kill -9 with bypass, restore from state,
# SIGHUP with a broken and a good file, and sipguardctl, malformed
# requests included, two queues, the daemon as an unprivileged user with
# CAP_NET_ADMIN alone, and on a gateway judging FORWARD.  Root only;
# everything is removed on exit.
set -u
SG=${SIPGUARD:-build/sipguard}
CTL=$(dirname "$SG")/sipguardctl
NODE="python3 $(dirname "$0")/sipnode.py"
ID=$$
BR=sglb$ID
P=sglp$ID
U=sglu$ID
A=sgla$ID
G=sglg$ID
X=sglx$ID
TMP=$(mktemp -d --suffix=.sglive)
PIDS=""
FAIL=0
STEP=0

if [ "$(id -u)" -ne 0 ]; then
	echo "test_live: SKIPPED: needs root (network namespaces, NFQUEUE)"
	exit 77
fi

# The journal's fields are checked against a real journald.  Where none
# runs (a container, a build machine without systemd as init), the test
# runs in a mount namespace of its own with a journald of its own: tmpfs
# over /run/systemd/journal (its sockets) and /run/log (its files), both
# gone with the namespace.
JOURNALD=/lib/systemd/systemd-journald
JOURNALCTL=journalctl
JDPID=
if [ -z "${SG_LIVE_JOURNAL:-}" ] &&
    { [ ! -S /run/systemd/journal/socket ] ||
    ! journalctl -n 0 >/dev/null 2>&1; }; then
	if [ ! -x "$JOURNALD" ]; then
		echo "test_live: $JOURNALD missing (Debian package systemd:" \
		    "make deps installs it)"
		exit 1
	fi
	SG_LIVE_JOURNAL=own exec unshare -m sh "$0" "$@"
fi
if [ "${SG_LIVE_JOURNAL:-}" = own ]; then
	mount -t tmpfs tmpfs /run/systemd/journal &&
	    mkdir -p /run/log && mount -t tmpfs tmpfs /run/log || exit 1
	"$JOURNALD" >/dev/null 2>&1 &
	JDPID=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -S /run/systemd/journal/socket ] && break
		sleep 0.2
	done
	JOURNALCTL="journalctl -D /run/log/journal"
fi

cleanup() {
	for p in $PIDS $JDPID; do kill -9 "$p" 2>/dev/null; done
	for n in "$P" "$U" "$A" "$G" "$X" "$BR"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	if [ "$FAIL" -gt 0 ] && [ -f "$TMP/sg.log" ]; then
		echo "test_live: the daemon's log:"
		sed 's/^/  | /' "$TMP/sg.log"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() { STEP=$((STEP + 1)); echo "ok $STEP - $1"; }
skip() { STEP=$((STEP + 1)); echo "ok $STEP - $1 # SKIP $2"; }
no() { STEP=$((STEP + 1)); echo "not ok $STEP - $1"; FAIL=$((FAIL + 1)); }
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ctl() { "$CTL" -s "$TMP/control" "$@"; }
in_p() { ip netns exec "$P" "$@"; }
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# ---- the network ---------------------------------------------------------
for n in "$BR" "$P" "$U" "$A"; do ip netns add "$n"; done
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
i=1
for n in "$P" "$U" "$A"; do
	case $n in
	"$P") mac=02:5c:00:00:00:01; ip=10.96.0.1 ;;
	"$U") mac=02:5c:00:00:00:11; ip=10.96.0.11 ;;
	"$A") mac=02:5c:00:00:00:66; ip=10.96.0.66 ;;
	esac
	ip link add "v$ID$i" type veth peer name "b$ID$i"
	ip link set "v$ID$i" netns "$n"
	ip link set "b$ID$i" netns "$BR"
	ip -n "$BR" link set "b$ID$i" master br0 up
	ip -n "$n" link set "v$ID$i" name eth0
	ip -n "$n" link set eth0 address $mac
	ip -n "$n" addr add $ip/24 dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" link set lo up
	i=$((i + 1))
done
in_p iptables -A INPUT -p udp --dport 5060 -j NFQUEUE --queue-num 0 \
    --queue-bypass
in_p iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE --queue-num 0 \
    --queue-bypass

cat > "$TMP/good.conf" <<EOF
proxy: { addresses = [ "10.96.0.1" ]; };
state: { dir = "$TMP/state"; interval = 1; };
control: { socket = "$TMP/control"; };
log: { aggregate = 0; json_file = "$TMP/eve.json"; };
metrics: { file = "$TMP/metrics/sipguard.prom"; interval = 1; };
queue: { idle_warning = 3; };
capture: { drops_file = "$TMP/drops.pcapng"; };
EOF
mkdir "$TMP/metrics"
ip netns exec "$P" $NODE registrar 10.96.0.1 5060 "$TMP/proxy.log" &
PIDS="$PIDS $!"

start_sg() {
	# Not through in_p: a backgrounded function is a subshell, and $!
	# would be its pid, not the daemon's.
	ip netns exec "$P" "$SG" -f -c "$TMP/good.conf" >> "$TMP/sg.log" 2>&1 &
	SGPID=$!
	PIDS="$PIDS $SGPID"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -S "$TMP/control" ] && ctl stats >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
# answering CTL: wait up to 3 s for a daemon to answer through CTL.
answering() {
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		"$1" stats >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
received() { grep -c " $1\$" "$TMP/proxy.log" 2>/dev/null || true; }

# ---- a registration, a call, a forged BYE ----------------------------------
check "sipguard starts and answers on its control socket" start_sg
check "a registration passes (REGISTER accepted, 200 learned)" \
    "ip netns exec $U $NODE send 10.96.0.11 10.96.0.1 REGISTER alice reg-1"
check "the binding is listed by sipguardctl bindings" \
    "ctl bindings | grep -q 'alice@lab.example .*02:5c:00:00:00:11 10.96.0.11'"
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 INVITE alice call-1
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 ACK alice call-1
sleep 0.3
check "the call's INVITE and ACK reach the proxy" \
    "[ \"\$(received call-1)\" -eq 2 ]"
# The attacker forges alice's BYE, her IP as its source.
ip netns exec "$A" $NODE spoof 10.96.0.11 10.96.0.1 BYE alice call-1
sleep 0.3
check "a forged BYE (alice's IP, another MAC) is dropped" \
    "[ \"\$(received call-1)\" -eq 2 ]"
check "its alarm is logged: type=spoof case=ix" \
    "grep -q 'alarm type=spoof case=ix action=block mac=02:5c:00:00:00:66 ip=10.96.0.11' $TMP/sg.log"
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 BYE alice call-1
sleep 0.3
check "alice's own BYE still reaches the proxy" \
    "[ \"\$(received call-1)\" -eq 3 ]"

# ---- the drops capture -------------------------------------------------------
# drops_bye FILE: pcapng read block by block (SHB, IDB LINKTYPE_RAW, EPBs);
# the forged BYE of call-1 is there, from alice's IP, with a comment that
# names case ix and its alarm; alice's own BYE (accepted) is not.
drops_bye() { python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
assert struct.unpack_from("<II", b, 0)[0] == 0x0a0d0d0a
o = 0; link = None; pk = []
while o < len(b):
    t, n = struct.unpack_from("<II", b, o)
    if t == 1:
        link = struct.unpack_from("<H", b, o + 8)[0]
    if t == 6:
        cap = struct.unpack_from("<I", b, o + 20)[0]
        d = b[o + 28:o + 28 + cap]; p = o + 28 + (cap + 3) // 4 * 4; c = b""
        while p < o + n - 4:
            code, ol = struct.unpack_from("<HH", b, p)
            if code == 0: break
            if code == 1: c = b[p + 4:p + 4 + ol]
            p += 4 + (ol + 3) // 4 * 4
        pk.append((d, c.decode()))
    o += n
assert link == 101, link
bye = [(d, c) for d, c in pk if b"BYE sip:" in d and b"call-1" in d]
assert len(bye) == 1, pk
d, c = bye[0]
assert d[12:16] == bytes([10, 96, 0, 11]) and d[16:20] == bytes([10, 96, 0, 1])
assert "reason=ix alarm=spoof case=ix action=block" in c, c
' "$1"; }
check "the drops capture holds the forged BYE, its comment naming case ix (pcapng, LINKTYPE_RAW)" \
    "drops_bye $TMP/drops.pcapng"
if command -v tshark >/dev/null 2>&1; then
	check "tshark reads the drops capture and shows the comment" \
	    "tshark -r $TMP/drops.pcapng -T fields -e sip.Call-ID -e frame.comment 2>/dev/null | grep -q '^call-1.*sipguard drop: reason=ix alarm=spoof case=ix'"
else
	skip "tshark reads the drops capture and shows the comment" \
	    "tshark not installed"
fi
check "stats count the drops capture (written)" \
    "ctl -j stats | grep -q '\"drops_capture\":{\"written\":[1-9]'"

# ---- events as JSON, metrics, journald ---------------------------------------
# eve_bye FILE: every line one JSON object; the forged BYE's alert in EVE's
# names.
eve_bye() { python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
a = [e for e in ev if e["event_type"] == "alert" and
     e["alert"]["signature"] == "sipguard spoof case ix"][0]
assert a["timestamp"][10] == "T" and a["timestamp"].endswith("+0000")
assert a["src_ip"] == "10.96.0.11" and a["dest_ip"] == "10.96.0.1"
assert a["dest_port"] == 5060 and a["proto"] == "UDP"
assert a["alert"]["action"] == "blocked" and a["sip"]["action"] == "block"
assert a["sip"]["mac"] == "02:5c:00:00:00:66" and a["sip"]["method"] == "BYE"
assert a["sip"]["call_id"] == "call-1"
' "$1"; }
check "the event file has the forged BYE's alert (EVE: event_type, src_ip, dest_port, alert.action blocked)" \
    "eve_bye $TMP/eve.json && jq -e -s '[.[] | select(.event_type == \"alert\") | .src_ip] | length > 0' $TMP/eve.json >/dev/null"
# eve_drop FILE: the forged BYE's drop as its own line (event_type "drop",
# Suricata's names): the reason, its alarm, the queue, the SIP fields.
eve_drop() { python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
d = [e for e in ev if e["event_type"] == "drop" and
     e.get("sip", {}).get("call_id") == "call-1"]
assert len(d) == 1, d
d = d[0]
assert d["src_ip"] == "10.96.0.11" and d["dest_port"] == 5060, d
assert d["ether"]["src_mac"] == "02:5c:00:00:00:66", d
assert d["drop"]["reason"] == "ix" and d["drop"]["queue"] == 0, d
assert d["drop"]["alarm"] == "spoof" and d["drop"]["case"] == "ix", d
assert d["drop"]["action"] == "block" and d["drop"]["len"] > 100, d
assert d["sip"]["method"] == "BYE", d
' "$1"; }
check "the event file has the forged BYE's drop too (event_type drop, reason ix, its alarm, sip.call_id)" \
    "eve_drop $TMP/eve.json && ctl -j stats | grep -q '\"events\":{\"written\":[0-9]*,\"drops\":[1-9]'"
mv "$TMP/eve.json" "$TMP/eve.json.1"
kill -USR1 "$SGPID"
sleep 0.3
ip netns exec "$A" $NODE spoof 10.96.0.13 10.96.0.1 BYE carol call-usr1
sleep 0.3
check "SIGUSR1 after logrotate's move: a new file, the next alert in it, the old one kept" \
    "grep -q 'SIGUSR1: event file .*eve.json reopened' $TMP/sg.log && grep -q '\"src_ip\":\"10.96.0.13\"' $TMP/eve.json && ! grep -q '10.96.0.13' $TMP/eve.json.1 && eve_bye $TMP/eve.json.1"
sleep 1.2
# prom_ok FILE: the text exposition format, line by line.
prom_ok() { python3 -c '
import re, sys
fam = None; seen = set(); n = 0
for l in open(sys.argv[1]).read().splitlines():
    m = re.match(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", l)
    if m:
        if m.group(1) == "HELP":
            assert m.group(2) not in seen
            seen.add(m.group(2))
            fam = m.group(2)
        else:
            assert m.group(2) == fam and m.group(3) in ("counter", "gauge")
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\]|\\.)*\",?)*\})? (\S+)$", l)
    assert m and m.group(1) == fam, l
    float(m.group(5))
    n += 1
assert n > 50
' "$1"; }
check "the metrics file (metrics.interval 1 s): Prometheus text, sipguard_packets_total, the spoof alarms (by case: ix, block), mode 0644" \
    "prom_ok $TMP/metrics/sipguard.prom && grep -q '^sipguard_packets_total [1-9]' $TMP/metrics/sipguard.prom && grep -q '^sipguard_alarms_total{type=\"spoof\"} [1-9]' $TMP/metrics/sipguard.prom && grep -q '^sipguard_verdicts_total{verdict=\"drop\",reason=\"ix\"} 1\$' $TMP/metrics/sipguard.prom && grep -q '^sipguard_alarm_cases_total{type=\"spoof\",case=\"ix\",action=\"block\"} [1-9]' $TMP/metrics/sipguard.prom && [ \"\$(stat -c %a $TMP/metrics/sipguard.prom)\" = 644 ] && [ ! -e $TMP/metrics/sipguard.prom.tmp ]"
check "journald${JDPID:+ (a journald of the test's own)}: the alarm's fields (journalctl SIPGUARD_ALARM=spoof SIPGUARD_CASE=ix)" \
    "sleep 1 && $JOURNALCTL -o json _PID=$SGPID SIPGUARD_ALARM=spoof SIPGUARD_CASE=ix | grep -q '\"SIPGUARD_SRC_IP\":\"10.96.0.11\"'"

# ---- the kernel blacklist ---------------------------------------------------
check "sipguardctl blacklist add (m, i)" \
    "ctl blacklist add 02:5c:00:00:00:66 10.96.0.66 ttl 300 >/dev/null"
check "the entry is in the nftables set inet sipguard blk4" \
    "in_p nft list set inet sipguard blk4 | grep -q '02:5c:00:00:00:66 . 10.96.0.66'"
before=$(ctl -j stats | json_num received)
ip netns exec "$A" $NODE send 10.96.0.66 10.96.0.1 OPTIONS mallory flood-1 50
sleep 0.5
after=$(ctl -j stats | json_num received)
check "its 50 packets are dropped by the kernel: the queue counter stays at $before" \
    "[ \"$before\" = \"$after\" ] && [ \"\$(received flood-1)\" -eq 0 ]"
check "sipguardctl blacklist lists it" \
    "ctl blacklist | grep -q 'mi  02:5c:00:00:00:66 10.96.0.66 why=manual'"
# A firewall reload (systemctl restart nftables) takes the table away.
check "the table deleted behind its back comes back within 3 s, with the entry" \
    "in_p nft delete table inet sipguard && sleep 3 && in_p nft list set inet sipguard blk4 | grep -q '02:5c:00:00:00:66 . 10.96.0.66' && grep -q 'table inet sipguard was gone' $TMP/sg.log && ctl -j stats | grep -q '\"restored\":1'"
# Silence on the queues for queue.idle_warning: the rules may be gone.
sleep 3.5
check "no packet queued for 3 s (queue.idle_warning): logged, and stats says since when" \
    "grep -q 'no packet queued for [0-9]* s: are the NFQUEUE rules in place' $TMP/sg.log && ctl -j stats | grep -Eq '\"idle\":([3-9]|[1-9][0-9]+)[,}]'"
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 OPTIONS alice idle-1
sleep 1.5
check "... and when packets come again" \
    "grep -q 'packets are queued again' $TMP/sg.log"
check "sipguardctl blacklist forget MAC: every entry naming it, kernel too" \
    "ctl blacklist add 02:5c:00:00:00:77 10.96.0.77 ttl 300 >/dev/null && ctl blacklist add 02:5c:00:00:00:77 10.96.0.78 5062 ttl 300 >/dev/null && in_p nft list ruleset | grep -q '10.96.0.78' && ctl blacklist forget 02:5c:00:00:00:77 | grep -q 'forgot 2 entries' && ! in_p nft list ruleset | grep -q '10.96.0.7[78]'"
check "sipguardctl blacklist forget IP; garbage is refused" \
    "ctl blacklist add 02:5c:00:00:00:79 10.96.0.79 ttl 300 >/dev/null && ctl blacklist forget 10.96.0.79 | grep -q 'forgot 1 entry' && ctl blacklist forget nonsense | grep -q 'neither a MAC'"

# ---- kill -9, bypass, restart from state -------------------------------------
sleep 1.5	# state.interval = 1: the periodic save has run
kill -9 "$SGPID"
wait "$SGPID" 2>/dev/null
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 INVITE alice call-2
sleep 0.3
check "with the daemon killed, --queue-bypass lets SIP through" \
    "[ \"\$(received call-2)\" -eq 1 ]"
check "sipguard restarts" start_sg
check "bindings restored from state (alice without re-registering)" \
    "ctl bindings | grep -q 'alice@lab.example'"
check "blacklist restored from state" \
    "ctl blacklist | grep -q '02:5c:00:00:00:66 10.96.0.66'"
check "and offloaded again to the kernel" \
    "in_p nft list set inet sipguard blk4 | grep -q '02:5c:00:00:00:66 . 10.96.0.66'"
ip netns exec "$U" $NODE send 10.96.0.11 10.96.0.1 INVITE alice call-3
sleep 0.3
check "alice's INVITE is judged legitimate (vii) after the restart" \
    "[ \"\$(received call-3)\" -eq 1 ] && ctl -j stats | grep -q '\"vii\":1'"

# ---- the runtime whitelist: pinned to a MAC, kept, and its file on reload ------------
ctl whitelist add 10.96.0.66 02:5c:00:00:00:99 wrong MAC > "$TMP/wl.out"
ip netns exec "$A" $NODE send 10.96.0.66 10.96.0.1 INVITE mallory wl-1
sleep 0.3
check "whitelist add pinned to another MAC: the blacklisted host stays dropped" \
    "grep -q '^added 10.96.0.66, pinned to 02:5c:00:00:00:99\$' $TMP/wl.out && [ \"\$(received wl-1)\" -eq 0 ] && in_p nft list set inet sipguard blk4 | grep -q '02:5c:00:00:00:66 . 10.96.0.66'"
check "pinned to its own MAC: its blacklist entry lifted (kernel too)" \
    "ctl whitelist add 10.96.0.66 02:5c:00:00:00:66 peer proxy B | grep -q '^replaced 10.96.0.66, pinned to 02:5c:00:00:00:66; 1 blacklist entry lifted' && sleep 0.3 && ! in_p nft list set inet sipguard blk4 | grep -q '10.96.0.66'"
ip netns exec "$A" $NODE send 10.96.0.66 10.96.0.1 INVITE mallory wl-2
sleep 0.3
check "and its unregistered INVITE passes as whitelisted" \
    "[ \"\$(received wl-2)\" -eq 1 ] && ctl -j stats | grep -q '\"whitelisted\":1'"
ip netns exec "$U" $NODE spoof 10.96.0.66 10.96.0.1 INVITE mallory wl-3
sleep 0.3
check "its address forged from another MAC is judged: dropped, counted" \
    "[ \"\$(received wl-3)\" -eq 0 ] && ctl -j stats | grep -q '\"whitelist_wrong_mac\":1'"
check "whitelist list shows it (MAC, runtime, comment); --help for one command" \
    "ctl whitelist | grep -q '^10.96.0.66 .*02:5c:00:00:00:66 runtime hits=1 age=[0-9]*s peer proxy B' && ctl whitelist --help | grep -q '^whitelist add CIDR \\[MAC\\] \\[COMMENT\\]' && ctl -j whitelist | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"count\"] == 1'"
rc_of() { "$@" > /dev/null 2>&1; echo $?; }
check "exit statuses: 1 refused, 2 usage, 3 daemon not reached" \
    "[ \$(rc_of ctl whitelist del 10.1.2.3) -eq 1 ] && [ \$(rc_of $CTL --bogus) -eq 2 ] && [ \$(rc_of $CTL -s $TMP/nowhere stats) -eq 3 ] && [ \$(rc_of ctl ping) -eq 0 ]"
ctl whitelist del 10.96.0.66 > /dev/null
ctl whitelist add 10.96.0.200/30 02:5c:00:00:00:99 kept > /dev/null
ctl blacklist add 02:5c:00:00:00:66 10.96.0.66 > /dev/null
cp "$TMP/good.conf" "$TMP/saved.conf"
printf '10.96.0.128/25 02:5c:00:00:00:99 from the file\n10.96.0.5/33\n' > "$TMP/wl"
echo "whitelist_file = \"$TMP/wl\";" >> "$TMP/good.conf"
kill -HUP "$SGPID"
sleep 0.5
check "SIGHUP with a bad whitelist_file: rejected with its file and line" \
    "grep -q \"whitelist_file $TMP/wl: line 2: .10.96.0.5/33. is not an address\" $TMP/sg.log && ! ctl whitelist | grep -q 10.96.0.128"
printf '10.96.0.128/25 02:5c:00:00:00:99 from the file\n' > "$TMP/wl"
check "sipguardctl reload with it fixed: the file's entry, the runtime one kept" \
    "ctl reload | grep -q reloaded && ctl whitelist | grep -q '^10.96.0.128/25 .* file .*from the file' && ctl whitelist | grep -q '^10.96.0.200/30 .* runtime'"
cp "$TMP/saved.conf" "$TMP/good.conf"
check "whitelist_file gone from the configuration: its entries go at reload" \
    "ctl reload | grep -q reloaded && ! ctl whitelist | grep -q 10.96.0.128 && ctl whitelist | grep -q 10.96.0.200/30"

# ---- SIGHUP ---------------------------------------------------------------------
check "prevent mode: the kernel limits unknown sources to the admission ceiling" \
    "in_p nft list chain inet sipguard admit | grep -q 'limit rate over 50000/second'"
check "... SIP to the proxy over UDP, TCP and SCTP, IPv4 and IPv6, goes through it" \
    "[ \"\$(in_p nft list chain inet sipguard prerouting | grep -cE '(udp|tcp|sctp) dport 5060 jump admit')\" -eq 6 ] && in_p nft list chain inet sipguard prerouting | grep -q 'sctp dport 5060 jump admit'"
cp "$TMP/good.conf" "$TMP/saved.conf"
printf 'mode = "block";\ntables: { binding = 1; };\n' >> "$TMP/good.conf"
kill -HUP "$SGPID"
sleep 0.5
check "SIGHUP with a broken file: rejected, logged with file and line" \
    "grep -q 'good.conf:[0-9]*: mode: must be one of' $TMP/sg.log && grep -q 'running one is kept' $TMP/sg.log"
check "the running configuration is kept (mode prevent)" \
    "ctl -j stats | grep -q '\"mode\":\"prevent\"'"
cp "$TMP/saved.conf" "$TMP/good.conf"
echo 'mode = "detect";' >> "$TMP/good.conf"
kill -HUP "$SGPID"
sleep 0.5
check "SIGHUP with a good file applies it (mode detect)" \
    "ctl -j stats | grep -q '\"mode\":\"detect\"'"
sleep 0.3
check "in detect mode the kernel's chain admit drops nothing (empty)" \
    "! in_p nft list chain inet sipguard admit | grep -q limit"
ip netns exec "$A" $NODE spoof 10.96.0.11 10.96.0.1 BYE alice call-4
sleep 0.3
check "in detect mode a forged BYE passes, with its alarm as a notice" \
    "[ \"\$(received call-4)\" -eq 1 ] && grep -q 'case=ix action=notice' $TMP/sg.log"
cp "$TMP/saved.conf" "$TMP/good.conf"
check "sipguardctl reload applies the file too" \
    "ctl reload | grep -q reloaded && ctl -j stats | grep -q '\"mode\":\"prevent\"'"
sleep 0.3
check "back in prevent mode, the ceiling is back" \
    "in_p nft list chain inet sipguard admit | grep -q 'limit rate over 50000/second'"

# ---- sipguardctl, and what a bad client cannot do -------------------------------
check "sipguardctl stats" "ctl stats | grep -q '^packets '"
check "sipguardctl --json stats is one JSON object" \
    "ctl -j stats | python3 -c 'import json,sys; json.load(sys.stdin)'"
check "sipguardctl --json bindings and blacklist parse" \
    "ctl -j bindings | python3 -c 'import json,sys; json.load(sys.stdin)' && ctl -j blacklist | python3 -c 'import json,sys; json.load(sys.stdin)'"
check "sipguardctl save" "ctl save | grep -q '^saved '"
check "sipguardctl blacklist del" \
    "ctl blacklist del 02:5c:00:00:00:66 10.96.0.66 | grep -q deleted && ! in_p nft list set inet sipguard blk4 | grep -q '10.96.0.66'"
check "-j after the command works too" \
    "ctl stats -j | python3 -c 'import json,sys; json.load(sys.stdin)'"
check "a JSON request gets a JSON error (exit 1) and a JSON message" \
    "! ctl -j frobnicate > $TMP/j.out && python3 -c 'import json; assert \"error\" in json.load(open(\"$TMP/j.out\"))' && ctl -j help | python3 -c 'import json,sys; assert \"message\" in json.load(sys.stdin)'"
check "an unknown command is an error (exit 1)" "! ctl frobnicate 2>/dev/null >/dev/null"
check "a bad MAC is refused" \
    "ctl blacklist add zz:zz 10.0.0.1 | grep -q 'error: bad MAC'"
raw() { python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$TMP/control')
s.sendall($1)
s.settimeout(7)
try:
    print(s.recv(4096).decode('latin-1'))
except Exception as e:
    print('no answer', e)
"; }
check "garbage bytes (a NUL, control characters) get 'bad request'" \
    "raw \"b'stats\\\\x00\\\\x01\\\\n'\" | grep -q 'error: bad request'"
check "a request over 1024 bytes gets 'request too long'" \
    "raw \"b'x' * 3000\" | grep -q 'request too long'"
check "a client that sends nothing is dropped after 5 s" \
    "raw \"b''\" | grep -q -v stats"
python3 -c "
import socket
socks = []
for k in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect('$TMP/control'); s.sendall(b'stat')
    except OSError:
        pass
    socks.append(s)
for s in socks:
    s.close()
"
check "40 clients that hang up mid-request leave the daemon serving" \
    "ctl stats | grep -q '^packets '"

# ---- stop ------------------------------------------------------------------------
kill -TERM "$SGPID"
wait "$SGPID" 2>/dev/null
check "SIGTERM saves the state" \
    "grep -q '^state saved: 1 bindings' $TMP/sg.log && grep -q '^b ' $TMP/state/state"
check "and removes the nftables table" \
    "! in_p nft list tables | grep -q sipguard"

# ---- two queues: each binding and entry once, in listings and state ---------------
for c in INPUT OUTPUT; do in_p iptables -F "$c"; done
in_p iptables -A INPUT -p udp --dport 5060 -j NFQUEUE --queue-balance 0:1 \
    --queue-bypass
in_p iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE --queue-balance 0:1 \
    --queue-bypass
sed -i 's/^mode = .*//' "$TMP/good.conf"
sed -i '/^queue:/d' "$TMP/good.conf"
echo 'queue: { count = 2; };' >> "$TMP/good.conf"
check "sipguard starts on two queues (0 and 1)" \
    "start_sg && ctl stats | grep -q '2 queue(s) from 0'"
check "a registration from another host passes" \
    "ip netns exec $A $NODE send 10.96.0.66 10.96.0.1 REGISTER bob reg-mq"
check "bindings lists alice (restored into both workers) and bob, once each" \
    "[ \"\$(ctl bindings | grep -c 'alice@lab.example')\" -eq 1 ] && [ \"\$(ctl bindings | grep -c 'bob@lab.example')\" -eq 1 ] && ctl bindings | grep -q '^2 binding'"
nbl=$(ctl blacklist | tail -1 | cut -d' ' -f1)
check "a manual entry (held by both workers) is listed once" \
    "ctl blacklist add 02:5c:00:00:00:99 10.96.0.99 ttl 300 >/dev/null && [ \"\$(ctl blacklist | grep -c '10.96.0.99')\" -eq 1 ] && [ \"\$(ctl blacklist | tail -1 | cut -d' ' -f1)\" -eq \$((nbl + 1)) ]"
ctl blacklist add 02:5c:00:00:00:98 10.96.0.98 ttl 300 >/dev/null
check "forget counts an entry held by both workers once" \
    "ctl blacklist forget 10.96.0.98 | grep -q 'forgot 1 entry' && ! ctl blacklist | grep -q '10.96.0.98'"
check "the runtime whitelist came back from state.dir/whitelist (both workers)" \
    "ctl whitelist | grep -q '^10.96.0.200/30 .*02:5c:00:00:00:99 runtime .*kept\$' && [ \"\$(ctl whitelist | wc -l)\" -eq 1 ]"
kill -TERM "$SGPID"
wait "$SGPID" 2>/dev/null
check "... and saved once again at stop" \
    "[ \"\$(grep -c '^w ' $TMP/state/whitelist)\" -eq 1 ] && grep -q ' kept\$' $TMP/state/whitelist && ! grep -q '^w ' $TMP/state/state"
check "the state file holds each binding and entry once" \
    "[ \"\$(grep -c '^b ' $TMP/state/state)\" -eq 2 ] && [ -z \"\$(grep '^l ' $TMP/state/state | sort | uniq -d)\" ] && grep -q '/0a600063' $TMP/state/state"

# ---- as the unit runs it: an unprivileged user with CAP_NET_ADMIN only -----------
# (systemd/sipguard.service: User=sipguard, AmbientCapabilities and
# CapabilityBoundingSet CAP_NET_ADMIN, NoNewPrivileges; nobody stands in
# for the sipguard user.)  The binary is copied where nobody can reach it.
for c in INPUT OUTPUT; do in_p iptables -F "$c"; done
in_p iptables -A INPUT -p udp --dport 5060 -j NFQUEUE --queue-num 0 \
    --queue-bypass
in_p iptables -A OUTPUT -p udp --sport 5060 -j NFQUEUE --queue-num 0 \
    --queue-bypass
chmod 711 "$TMP"
mkdir -m 755 "$TMP/priv"
cp "$SG" "$TMP/priv/sipguard"
mkdir -m 700 "$TMP/priv/run" "$TMP/priv/state"
chown nobody:nogroup "$TMP/priv/run" "$TMP/priv/state"
cat > "$TMP/priv/sg.conf" <<EOF
proxy: { addresses = [ "10.96.0.1" ]; };
state: { dir = "$TMP/priv/state"; };
control: { socket = "$TMP/priv/run/control"; };
EOF
# systemd's side of Type=notify: a datagram socket, as systemd would give.
python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.settimeout(0.5)
end = time.time() + 30
with open(sys.argv[2], "w") as out:
    while time.time() < end:
        try:
            out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
            out.flush()
        except socket.timeout:
            pass
' "$TMP/priv/run/notify" "$TMP/notify.log" &
PIDS="$PIDS $!"
sleep 0.3
NOTIFY_SOCKET=$TMP/priv/run/notify \
ip netns exec "$P" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    --inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
    --bounding-set=-all,+net_admin --no-new-privs \
    "$TMP/priv/sipguard" -f -c "$TMP/priv/sg.conf" >> "$TMP/sg.log" 2>&1 &
SGPID=$!
PIDS="$PIDS $SGPID"
pctl() { "$CTL" -s "$TMP/priv/run/control" "$@"; }
answering pctl
check "as nobody with CAP_NET_ADMIN alone: starts, binds the queue, makes its table" \
    "pctl stats | grep -q '^packets ' && in_p nft list tables | grep -q 'inet sipguard' && grep -q '^Uid:.*65534' /proc/\$SGPID/status"
check "and judges: a registration is learned, a forged BYE dropped" \
    "ip netns exec $U $NODE send 10.96.0.11 10.96.0.1 REGISTER alice reg-priv && pctl bindings | grep -q alice@lab.example && ip netns exec $A $NODE spoof 10.96.0.11 10.96.0.1 BYE alice call-priv && sleep 0.3 && pctl -j stats | grep -q '\"drop\":{[^}]*\"ix\":[1-9]'"
check "sd_notify: READY=1 once the queue is bound" "grep -q '^READY=1' $TMP/notify.log"
kill -HUP "$SGPID"
sleep 1.5
check "sd_notify: RELOADING=1 then READY=1 around a SIGHUP; WATCHDOG=1 each second" \
    "grep -A1 '^RELOADING=1' $TMP/notify.log | grep -q '^READY=1' && [ \"\$(grep -c '^WATCHDOG=1' $TMP/notify.log)\" -ge 1 ]"
kill -TERM "$SGPID"
wait "$SGPID" 2>/dev/null
check "and at SIGTERM says STOPPING=1, saves its state and removes its table" \
    "grep -q '^STOPPING=1' $TMP/notify.log && [ -s $TMP/priv/state/state ] && ! in_p nft list tables | grep -q sipguard"

# ---- on a gateway in front of the proxy: FORWARD rules ------------------------
# G routes between the bridge (10.96.0.0/24) and the proxy's own network,
# where X runs a registrar at 10.97.0.1; sipguard judges in G's FORWARD.
ip netns add "$G"
ip netns add "$X"
ip link add "g$ID" type veth peer name "bg$ID"
ip link set "g$ID" netns "$G"
ip link set "bg$ID" netns "$BR"
ip -n "$BR" link set "bg$ID" master br0 up
ip -n "$G" link set "g$ID" name eth0
ip -n "$G" link set eth0 address 02:5c:00:00:00:fe
ip -n "$G" addr add 10.96.0.254/24 dev eth0
ip link add "x$ID" type veth peer name "gx$ID"
ip link set "x$ID" netns "$X"
ip link set "gx$ID" netns "$G"
ip -n "$G" link set "gx$ID" name eth1
ip -n "$G" addr add 10.97.0.254/24 dev eth1
ip -n "$X" link set "x$ID" name eth0
ip -n "$X" addr add 10.97.0.1/24 dev eth0
for n in "$G" "$X"; do
	ip -n "$n" link set lo up
	for l in $(ip -n "$n" -o link show | sed -n 's/^[0-9]*: \(eth[0-9]\)[:@].*/\1/p'); do
		ip -n "$n" link set "$l" up
	done
done
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
ip -n "$X" route add default via 10.97.0.254
ip -n "$U" route add 10.97.0.0/24 via 10.96.0.254
ip -n "$A" route add 10.97.0.0/24 via 10.96.0.254
ip netns exec "$G" iptables -A FORWARD -p udp -d 10.97.0.1 --dport 5060 \
    -j NFQUEUE --queue-num 0 --queue-bypass
ip netns exec "$G" iptables -A FORWARD -p udp -s 10.97.0.1 --sport 5060 \
    -j NFQUEUE --queue-num 0 --queue-bypass
ip netns exec "$X" $NODE registrar 10.97.0.1 5060 "$TMP/gw-proxy.log" &
PIDS="$PIDS $!"
# The registrar listening before the first REGISTER (without nft to set
# up, the daemon may answer before python has bound its socket).
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	ip netns exec "$X" ss -Hlun 'sport = :5060' | grep -q . && break
	sleep 0.2
done
mkdir "$TMP/gw"
cat > "$TMP/gw/sg.conf" <<EOF
proxy: { addresses = [ "10.97.0.1" ]; };
state: { dir = "$TMP/gw"; };
control: { socket = "$TMP/gw/control"; };
log: { aggregate = 0; json_file = "$TMP/gw/eve.json"; };
nft: { enabled = false; };
EOF
ip netns exec "$G" "$SG" -f -c "$TMP/gw/sg.conf" >> "$TMP/sg.log" 2>&1 &
SGPID=$!
PIDS="$PIDS $SGPID"
gctl() { "$CTL" -s "$TMP/gw/control" "$@"; }
answering gctl
gw_received() { grep -c " $1\$" "$TMP/gw-proxy.log" 2>/dev/null || true; }
check "gateway (FORWARD): a registration through it is learned with the phone's MAC" \
    "ip netns exec $U $NODE send 10.96.0.11 10.97.0.1 REGISTER alice reg-gw && gctl bindings | grep -q 'alice@lab.example .*02:5c:00:00:00:11 10.96.0.11'"
ip netns exec "$U" $NODE send 10.96.0.11 10.97.0.1 INVITE alice call-gw
ip netns exec "$A" $NODE spoof 10.96.0.11 10.97.0.1 BYE alice call-gw
sleep 0.3
ip netns exec "$U" $NODE send 10.96.0.11 10.97.0.1 BYE alice call-gw
sleep 0.3
check "gateway: the INVITE and alice's BYE pass, the forged BYE is dropped (ix)" \
    "[ \"\$(gw_received call-gw)\" -eq 2 ] && gctl -j stats | grep -q '\"drop\":{[^}]*\"ix\":1' && gctl -j stats | grep -q '\"inbound\":4,\"outbound\":3'"
# Without the kernel's sets (nft.enabled false) a blacklisted source
# reaches the daemon: dropped with no alarm of its own, yet a drop line.
gctl blacklist add 02:5c:00:00:00:66 10.96.0.66 ttl 300 > /dev/null
ip netns exec "$A" $NODE send 10.96.0.66 10.97.0.1 OPTIONS mallory gw-bl
sleep 0.5
check "gateway: a blacklisted source's OPTIONS is dropped, and the event file has its drop (reason blacklisted, no alarm)" \
    "[ \"\$(gw_received gw-bl)\" -eq 0 ] && gctl -j stats | grep -q '\"drop\":{[^}]*\"blacklisted\":1' && jq -e -s '[.[] | select(.event_type == \"drop\" and .drop.reason == \"blacklisted\" and .src_ip == \"10.96.0.66\" and .dest_ip == \"10.97.0.1\" and .ether.src_mac == \"02:5c:00:00:00:66\" and (.drop | has(\"alarm\") | not))] | length == 1' $TMP/gw/eve.json >/dev/null"
kill -TERM "$SGPID"
wait "$SGPID" 2>/dev/null

echo "test_live: $STEP checks, $FAIL failed"
[ "$FAIL" -eq 0 ]
