#!/bin/bash
# tools/lab.sh: sipguard's network lab (real Kamailio + SIPp in network
# namespaces on one L2 segment). See tests/lab/README.
#
#   lab.sh up                      namespaces, bridge, addresses, Kamailio
#   lab.sh down                    kill everything, delete it all (idempotent)
#   lab.sh register [-6] UA USER [EXPIRES]
#   lab.sh call [-6] FROM_UA FROM_USER TO_UA TO_USER [SECONDS]
#   lab.sh exec NS CMD...          NS: proxy ua1 ua2 atk br (or sgproxy, ...)
#   lab.sh status
#
# Sourceable: `. tools/lab.sh` defines lab_up, lab_down, lab_register,
# lab_call, lab_exec, lab_status, lab_sipguard_hooks (and the LAB_*
# variables) without running anything. Each returns 0 on success. They work under set -euo pipefail
# too.
#
# Environment:
#   LAB_STATE            state file (default /tmp/sglab.state); holds LAB_DIR
#   LAB_HOOK_UP          script run inside sgproxy after Kamailio answers
#   LAB_HOOK_DOWN        script run inside sgproxy first thing in `down`
#                        (both get LAB_DIR, LAB_ROOT and the LAB_* addresses
#                        in their environment)
#   LAB_KAM_DEBUG        Kamailio log level (default 1; 2 logs every message)
#   LAB_KAM_NONCE_COUNT  1: enable auth nonce_count (replay protection)
#   LAB_KAM_CHILDREN     UDP workers per listen socket (default 4)
#   LAB_PASSWORD         password SIPp answers challenges with (default secret)
#   LAB_CALL_NOREG       set: lab_call calls without registering the two
#                        phones first (they registered earlier)
#
# Traffic only ever goes to addresses inside the namespaces made here; the
# namespaces have no route anywhere else.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lab.sh: needs bash" >&2
	# shellcheck disable=SC2317
	return 1 2>/dev/null || exit 1
fi

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_FILES=$LAB_ROOT/tests/lab
LAB_STATE=${LAB_STATE:-/tmp/sglab.state}
LAB_DOMAIN=lab.example
LAB_USERS="alice bob carol"
LAB_SECRET=secret                       # what the subscriber table holds
LAB_NETNS="sgproxy sgua1 sgua2 sgatk sgbr"
LAB_PROXY4=10.99.0.1
LAB_PROXY6=fd99::1
LAB_SIP_PORT=5060

# node table: short name, namespace, IPv4, IPv6, MAC
_lab_node() {
	case $1 in
	proxy | sgproxy) echo "proxy sgproxy 10.99.0.1 fd99::1 02:5a:00:00:00:01" ;;
	ua1 | sgua1) echo "ua1 sgua1 10.99.0.11 fd99::11 02:5a:00:00:00:11" ;;
	ua2 | sgua2) echo "ua2 sgua2 10.99.0.12 fd99::12 02:5a:00:00:00:12" ;;
	atk | sgatk) echo "atk sgatk 10.99.0.66 fd99::66 02:5a:00:00:00:66" ;;
	br | sgbr) echo "br sgbr - - -" ;;
	*) return 1 ;;
	esac
}
_lab_field() { # NODE INDEX(1..5)
	local n a
	n=$(_lab_node "$1") || return 1
	read -r -a a <<<"$n"
	echo "${a[$(($2 - 1))]}"
}
lab_ns() { _lab_field "$1" 2; }
lab_ip4() { _lab_field "$1" 3; }
lab_ip6() { _lab_field "$1" 4; }
lab_mac() { _lab_field "$1" 5; }

_lab_say() { echo "lab: $*" >&2; }
_lab_now() { date +%s.%N | cut -c1-14; }
_lab_since() { awk -v a="$1" -v b="$(_lab_now)" 'BEGIN { printf "%.1f", b - a }'; }

_lab_need_root() {
	if [ "$(id -u)" != 0 ]; then
		_lab_say "must run as root"
		return 1
	fi
}

_lab_ns_exists() { [ -e "/run/netns/$1" ]; }

# LAB_DIR from the state file (empty when there is none)
_lab_load_state() {
	LAB_DIR=
	if [ -r "$LAB_STATE" ]; then
		LAB_DIR=$(sed -n 's/^LAB_DIR=//p' "$LAB_STATE" | head -n 1)
	fi
	case $LAB_DIR in
	/tmp/tmp.*.sglab) [ -d "$LAB_DIR" ] || LAB_DIR= ;;
	*) LAB_DIR= ;;
	esac
}

# _lab_hook SCRIPT: run a hook inside sgproxy with the lab's variables
_lab_hook() {
	env LAB_DIR="$LAB_DIR" LAB_ROOT="$LAB_ROOT" LAB_STATE="$LAB_STATE" \
		LAB_DOMAIN="$LAB_DOMAIN" LAB_PROXY4="$LAB_PROXY4" LAB_PROXY6="$LAB_PROXY6" \
		LAB_SIP_PORT="$LAB_SIP_PORT" timeout -k 2 60 ip netns exec sgproxy "$1"
}

_lab_kam_pid() {
	local p
	[ -n "${LAB_DIR:-}" ] && [ -r "$LAB_DIR/kamailio.pid" ] || return 1
	p=$(head -n 1 "$LAB_DIR/kamailio.pid")
	case $p in '' | *[!0-9]*) return 1 ;; esac
	echo "$p"
}

# ---------------------------------------------------------------- up

lab_up() {
	local t0 n ns ip4 ip6 mac i ok pid ha1 ha1b u tries c
	local -a kdefs
	t0=$(_lab_now)
	_lab_need_root || return 1
	for c in ip kamailio sipp timeout setsid md5sum ss awk; do
		if ! command -v "$c" >/dev/null 2>&1; then
			_lab_say "missing command: $c"
			return 1
		fi
	done
	for ns in $LAB_NETNS; do
		if _lab_ns_exists "$ns"; then
			_lab_say "namespace $ns exists: lab already up (or left over); run 'lab.sh down' first"
			return 1
		fi
	done
	if [ -e "$LAB_STATE" ]; then
		_lab_say "$LAB_STATE exists: lab already up (or left over); run 'lab.sh down' first"
		return 1
	fi

	LAB_DIR=$(mktemp -d -p /tmp --suffix=.sglab) || return 1
	echo "LAB_DIR=$LAB_DIR" >"$LAB_STATE" || return 1
	mkdir -p "$LAB_DIR/db" "$LAB_DIR/run" "$LAB_DIR/sipp"
	: >"$LAB_DIR/.sglab"                   # marker: `down` may delete it

	# -- namespaces and the L2 segment -------------------------------
	for ns in $LAB_NETNS; do
		ip netns add "$ns" || { _lab_say "ip netns add $ns failed"; return 1; }
		ip -n "$ns" link set lo up || return 1
	done
	# the bridge namespace has no addresses at all: no IPv6 chatter from it
	ip netns exec sgbr sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null || true
	ip -n sgbr link add br0 type bridge stp_state 0 forward_delay 0 || {
		_lab_say "cannot create bridge"
		return 1
	}
	ip -n sgbr link set br0 up || return 1
	for n in proxy ua1 ua2 atk; do
		ns=$(lab_ns $n) ip4=$(lab_ip4 $n) ip6=$(lab_ip6 $n) mac=$(lab_mac $n)
		# no router solicitations; our addresses skip DAD (nodad)
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.accept_dad=0 \
			>/dev/null 2>&1 || true
		# veth made inside sgbr, its peer moved straight into the node:
		# nothing is ever created in the root namespace
		ip -n sgbr link add "$n" type veth peer name eth0 netns "$ns" || {
			_lab_say "cannot create veth for $n"
			return 1
		}
		ip -n "$ns" link set eth0 address "$mac" || return 1
		ip -n sgbr link set "$n" master br0 || return 1
		ip -n sgbr link set "$n" up || return 1
		ip -n "$ns" addr add "$ip4/24" dev eth0 || return 1
		ip -n "$ns" -6 addr add "$ip6/64" dev eth0 nodad || return 1
		ip -n "$ns" link set eth0 up || return 1
	done

	# -- Kamailio ----------------------------------------------------
	{
		echo "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) "
		i=1
		for u in $LAB_USERS; do
			ha1=$(printf '%s' "$u:$LAB_DOMAIN:$LAB_SECRET" | md5sum | cut -c1-32)
			ha1b=$(printf '%s' "$u@$LAB_DOMAIN:$LAB_DOMAIN:$LAB_SECRET" | md5sum | cut -c1-32)
			echo "$i:$u:$LAB_DOMAIN:$LAB_SECRET:$ha1:$ha1b"
			i=$((i + 1))
		done
	} >"$LAB_DIR/db/subscriber"
	printf '%s\n' "id(int,auto) table_name(string) table_version(int) " \
		"1:subscriber:7" >"$LAB_DIR/db/version"
	sed -e "s|@LAB_DB@|$LAB_DIR/db|g" \
		-e "s|@PROXY_IP4@|$LAB_PROXY4|g" \
		-e "s|@PROXY_IP6@|$LAB_PROXY6|g" \
		-e "s|@DOMAIN@|$LAB_DOMAIN|g" \
		-e "s|@CHILDREN@|${LAB_KAM_CHILDREN:-4}|g" \
		"$LAB_FILES/kamailio.cfg" >"$LAB_DIR/kamailio.cfg" || return 1
	kdefs=(-A WITH_IPV6)
	if [ "${LAB_KAM_NONCE_COUNT:-0}" = 1 ]; then kdefs+=(-A WITH_NONCE_COUNT); fi
	if ! kamailio -c -f "$LAB_DIR/kamailio.cfg" "${kdefs[@]}" >"$LAB_DIR/kamailio-check.log" 2>&1; then
		_lab_say "kamailio config check failed:"
		tail -n 20 "$LAB_DIR/kamailio-check.log" >&2
		return 1
	fi
	# -DD: Kamailio stays in the foreground of its own session (setsid -f),
	# detached from the caller's terminal and process group; -E: log to
	# stderr, into kamailio.log. Its main pid is taken from the pid file.
	setsid -f ip netns exec sgproxy kamailio -f "$LAB_DIR/kamailio.cfg" \
		-P "$LAB_DIR/kamailio.pid" -Y "$LAB_DIR/run" -w "$LAB_DIR/run" \
		-m 64 -M 8 -DD -E --debug="${LAB_KAM_DEBUG:-1}" "${kdefs[@]}" \
		</dev/null >>"$LAB_DIR/kamailio.log" 2>&1

	# wait (at most ~10 s) for its pid file and its socket, then until it
	# answers an OPTIONS sent from inside sgproxy (at most 3 tries of 3 s)
	ok=0 pid=
	for tries in $(seq 1 100); do
		if [ -z "$pid" ]; then
			pid=$(_lab_kam_pid) || pid=
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		if [ -n "$pid" ] && _lab_port_busy sgproxy "$LAB_SIP_PORT"; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if [ $ok != 1 ]; then
		_lab_say "kamailio did not start (pid '${pid:-none}'); log $LAB_DIR/kamailio.log:"
		tail -n 20 "$LAB_DIR/kamailio.log" >&2
		return 1
	fi
	ok=0
	for tries in 1 2 3; do
		if _lab_sipp sgproxy "$LAB_PROXY4" "probe$tries" options "$LAB_PROXY4:$LAB_SIP_PORT" 0 3 \
			-s probe; then
			ok=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
	done
	if [ $ok != 1 ]; then
		_lab_say "kamailio does not answer OPTIONS; log: $LAB_DIR/kamailio.log"
		tail -n 20 "$LAB_DIR/kamailio.log" >&2
		return 1
	fi
	if ! _lab_sipp sgproxy "$LAB_PROXY6" probe6 options "[$LAB_PROXY6]:$LAB_SIP_PORT" 0 3 -s probe; then
		_lab_say "kamailio does not answer OPTIONS over IPv6"
		return 1
	fi

	# -- reachability over the bridge: an OPTIONS from every node, both
	# families (also fills the neighbour caches)
	for n in ua1 ua2 atk; do
		ns=$(lab_ns $n)
		if ! _lab_sipp "$ns" "$(lab_ip4 $n)" "probe-$n" options "$LAB_PROXY4:$LAB_SIP_PORT" 0 3 -s probe ||
			! _lab_sipp "$ns" "$(lab_ip6 $n)" "probe6-$n" options "[$LAB_PROXY6]:$LAB_SIP_PORT" 0 3 -s probe; then
			_lab_say "$n cannot reach the proxy ($LAB_DIR/sipp/probe*-$n.*)"
			return 1
		fi
	done

	if [ -n "${LAB_HOOK_UP:-}" ]; then
		_lab_say "running LAB_HOOK_UP in sgproxy: $LAB_HOOK_UP"
		if ! _lab_hook "$LAB_HOOK_UP"; then
			_lab_say "LAB_HOOK_UP failed"
			return 1
		fi
	fi
	_lab_say "up in $(_lab_since "$t0") s; dir $LAB_DIR; kamailio pid $pid"
	return 0
}

# ---------------------------------------------------------------- down

# kill every process in our namespaces: TERM, wait (bounded), KILL
_lab_kill_ns_pids() {
	local ns round
	local -a pids
	for round in $(seq 1 30); do
		pids=()
		for ns in $LAB_NETNS; do
			_lab_ns_exists "$ns" || continue
			mapfile -t -O ${#pids[@]} pids < <(ip netns pids "$ns" 2>/dev/null)
		done
		[ ${#pids[@]} = 0 ] && return 0
		if [ "$round" = 1 ]; then
			kill -TERM "${pids[@]}" 2>/dev/null || true
		elif [ "$round" -ge 20 ]; then
			kill -KILL "${pids[@]}" 2>/dev/null || true
		fi
		sleep 0.1
	done
	_lab_say "processes still alive in the lab namespaces: ${pids[*]}"
	return 1
}

lab_down() {
	local ns pid kpids i rc=0
	_lab_need_root || return 1
	_lab_load_state
	if [ -n "${LAB_HOOK_DOWN:-}" ] && _lab_ns_exists sgproxy; then
		_lab_say "running LAB_HOOK_DOWN in sgproxy: $LAB_HOOK_DOWN"
		_lab_hook "$LAB_HOOK_DOWN" || _lab_say "LAB_HOOK_DOWN failed (going on)"
	fi
	# Kamailio first, by its pid file (its main process takes the children with it)
	kpids=$(_lab_kam_pid) || kpids=
	for pid in $kpids; do
		# only if it still is Kamailio (pid files outlive their process)
		case $(cat "/proc/$pid/comm" 2>/dev/null) in
		kamailio) kill -TERM "$pid" 2>/dev/null || true ;;
		esac
	done
	_lab_kill_ns_pids || rc=1
	# Kamailio was started by a shell that is gone: init reaps it, usually
	# within ~1 s. Wait (at most 3 s) so that no <defunct> entry lingers.
	for pid in $kpids; do
		for i in $(seq 1 60); do
			[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = kamailio ] || break
			sleep 0.05
		done
	done
	for ns in $LAB_NETNS; do
		if _lab_ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null || { _lab_say "cannot delete namespace $ns"; rc=1; }
		fi
	done
	if [ -n "${LAB_DIR:-}" ]; then
		rm -rf -- "$LAB_DIR"
	fi
	# directories of earlier labs whose state file was lost (marked ones only)
	for i in /tmp/tmp.*.sglab /tmp/sglab.??????; do
		if [ -f "$i/.sglab" ]; then rm -rf -- "$i"; fi
	done
	rm -f -- "$LAB_STATE"
	LAB_DIR=
	return $rc
}

# ---------------------------------------------------------------- SIPp

# _lab_sipp NS LOCAL_IP TAG SCENARIO REMOTE PORT SECONDS [SIPP ARGS...]
# One SIPp run, one call, bounded by -timeout and timeout(1); its logs go to
# $LAB_DIR/sipp/TAG.*. REMOTE empty: act as a server (UAS). PORT 0: any.
_lab_sipp() {
	local ns=$1 lip=$2 tag=$3 sc=$4 remote=$5 port=$6 secs=$7 rc
	shift 7
	local d=$LAB_DIR/sipp
	local -a pre=()
	# remote host first (client), nothing (server); a fixed local port or any
	if [ -n "$remote" ]; then pre+=("$remote"); fi
	if [ "$port" != 0 ]; then pre+=(-p "$port"); fi
	(
		cd "$d" || exit 1
		exec timeout -k 2 $((secs + 5)) ip netns exec "$ns" sipp "${pre[@]}" \
			-sf "$LAB_FILES/$sc.xml" -t u1 -i "$lip" -m 1 \
			-key domain "$LAB_DOMAIN" -nostdin \
			-timeout "${secs}s" -timeout_error \
			-trace_err -error_file "$d/$tag.err" \
			-trace_msg -message_file "$d/$tag.msg" \
			"$@" </dev/null >"$d/$tag.out" 2>&1
	) && rc=0 || rc=$?
	return $rc
}

_lab_tag() { echo "$(date +%H%M%S%N | cut -c1-9)-$1"; }

# parse a leading -4/-6; sets _LAB_AF
_lab_af() {
	_LAB_AF=4
	case ${1:-} in -6) _LAB_AF=6 ;; esac
}
_lab_lip() { if [ "$_LAB_AF" = 6 ]; then lab_ip6 "$1"; else lab_ip4 "$1"; fi; }
_lab_proxy() {
	if [ "$_LAB_AF" = 6 ]; then echo "[$LAB_PROXY6]:$LAB_SIP_PORT"; else echo "$LAB_PROXY4:$LAB_SIP_PORT"; fi
}

_lab_check_ua() {
	case $1 in
	ua1 | ua2 | atk | sgua1 | sgua2 | sgatk) return 0 ;;
	esac
	_lab_say "bad UA '$1' (ua1, ua2 or atk)"
	return 1
}

_lab_port_busy() { # NS PORT
	[ -n "$(ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null)" ]
}

# __lab_register NODE USER SRC_PORT CONTACT_PORT EXPIRES  (uses _LAB_AF)
__lab_register() {
	local node=$1 user=$2 sport=$3 cport=$4 exp=$5 tag ns lip rc
	ns=$(lab_ns "$node") lip=$(_lab_lip "$node")
	tag=$(_lab_tag "reg-$node-$user-v$_LAB_AF")
	_lab_sipp "$ns" "$lip" "$tag" reg "$(_lab_proxy)" "$sport" 10 \
		-s "$user" -au "$user" -ap "${LAB_PASSWORD:-$LAB_SECRET}" -auth_uri "$LAB_DOMAIN" \
		-key contact_port "$cport" -key expires "$exp" && rc=0 || rc=$?
	if [ $rc != 0 ]; then
		_lab_say "REGISTER $user@$LAB_DOMAIN from $node (IPv$_LAB_AF) failed (sipp rc $rc; $LAB_DIR/sipp/$tag.*)"
	fi
	return $rc
}

# lab_register [-6] UA USER [EXPIRES]: 0 only if the registrar said 200.
# Sent from the phone's port 5060 (Contact :5060) unless that port is busy in
# the namespace (a UAS running there), then from any port.
lab_register() {
	local node user exp sport
	_lab_af "${1:-}"
	case ${1:-} in -4 | -6) shift ;; esac
	if [ $# -lt 2 ]; then
		_lab_say "usage: register [-6] UA USER [EXPIRES]"
		return 2
	fi
	_lab_load_state
	[ -n "$LAB_DIR" ] || { _lab_say "lab is not up"; return 1; }
	_lab_check_ua "$1" || return 2
	node=$(_lab_field "$1" 1) user=$2 exp=${3:-3600}
	sport=$LAB_SIP_PORT
	if _lab_port_busy "$(lab_ns "$node")" "$sport"; then sport=0; fi
	__lab_register "$node" "$user" "$sport" "$LAB_SIP_PORT" "$exp"
}

# lab_call [-6] FROM_UA FROM_USER TO_UA TO_USER [SECONDS]
lab_call() {
	local fnode fuser tnode tuser secs fport tport fns tns uas_pid uas_rc uac_rc
	local t0 tag i
	_lab_af "${1:-}"
	case ${1:-} in -4 | -6) shift ;; esac
	if [ $# -lt 4 ]; then
		_lab_say "usage: call [-6] FROM_UA FROM_USER TO_UA TO_USER [SECONDS]"
		return 2
	fi
	_lab_load_state
	[ -n "$LAB_DIR" ] || { _lab_say "lab is not up"; return 1; }
	_lab_check_ua "$1" || return 2
	_lab_check_ua "$3" || return 2
	fnode=$(_lab_field "$1" 1) fuser=$2 tnode=$(_lab_field "$3" 1) tuser=$4 secs=${5:-2}
	case $secs in '' | *[!0-9]*) _lab_say "SECONDS must be a whole number"; return 2 ;; esac
	fns=$(lab_ns "$fnode") tns=$(lab_ns "$tnode")
	tport=$LAB_SIP_PORT fport=$LAB_SIP_PORT
	if [ "$fnode" = "$tnode" ]; then fport=$((LAB_SIP_PORT + 2)); fi
	t0=$(_lab_now)

	if _lab_port_busy "$tns" "$tport"; then
		_lab_say "UDP $tport is busy in $tns: cannot run the callee there"
		return 1
	fi
	# 1. callee registers its phone port (unless LAB_CALL_NOREG: phones
	# registered earlier, as after a cold start), 2. the UAS starts there
	if [ -z "${LAB_CALL_NOREG:-}" ]; then
		__lab_register "$tnode" "$tuser" "$tport" "$tport" 3600 || return 1
	fi
	tag=$(_lab_tag "uas-$tnode-$tuser-v$_LAB_AF")
	_lab_sipp "$tns" "$(_lab_lip "$tnode")" "$tag" uas "" "$tport" $((secs + 25)) \
		-s "$tuser" -mp 16000 -key sdp_af "$_LAB_AF" -key sdp_ip "$(_lab_lip "$tnode")" &
	uas_pid=$!
	for i in $(seq 1 50); do
		_lab_port_busy "$tns" "$tport" && break
		kill -0 "$uas_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! _lab_port_busy "$tns" "$tport"; then
		_lab_say "the callee's SIPp did not start ($LAB_DIR/sipp/$tag.out)"
		kill "$uas_pid" 2>/dev/null || true
		wait "$uas_pid" 2>/dev/null || true
		return 1
	fi
	# 3. caller registers, 4. calls through the proxy
	uac_rc=1
	if [ -n "${LAB_CALL_NOREG:-}" ] ||
	    __lab_register "$fnode" "$fuser" "$fport" "$fport" 3600; then
		tag=$(_lab_tag "uac-$fnode-$fuser-v$_LAB_AF")
		_lab_sipp "$fns" "$(_lab_lip "$fnode")" "$tag" uac "$(_lab_proxy)" "$fport" $((secs + 15)) \
			-s "$fuser" -au "$fuser" -ap "${LAB_PASSWORD:-$LAB_SECRET}" -auth_uri "$tuser@$LAB_DOMAIN" \
			-key callee "$tuser" -d $((secs * 1000)) -mp 16100 \
			-key sdp_af "$_LAB_AF" -key sdp_ip "$(_lab_lip "$fnode")" && uac_rc=0 || uac_rc=$?
		if [ $uac_rc != 0 ]; then
			_lab_say "caller's SIPp failed (rc $uac_rc; $LAB_DIR/sipp/$tag.*)"
		fi
	fi
	if [ $uac_rc != 0 ]; then
		# the callee would wait for its timeout: stop it now
		pkill -TERM -P "$uas_pid" 2>/dev/null || true
		kill -TERM "$uas_pid" 2>/dev/null || true
	fi
	wait "$uas_pid" && uas_rc=0 || uas_rc=$?
	if [ $uac_rc = 0 ] && [ $uas_rc != 0 ]; then
		_lab_say "callee's SIPp failed (rc $uas_rc)"
	fi
	if [ $uac_rc = 0 ] && [ $uas_rc = 0 ]; then
		_lab_say "call $fuser@$fnode -> $tuser@$tnode (IPv$_LAB_AF, ${secs}s) done in $(_lab_since "$t0") s"
		return 0
	fi
	return 1
}

# ---------------------------------------------------------------- misc

lab_exec() {
	local ns
	if [ $# -lt 2 ]; then
		_lab_say "usage: exec NS CMD..."
		return 2
	fi
	ns=$(lab_ns "$1") || { _lab_say "unknown namespace '$1'"; return 2; }
	shift
	ip netns exec "$ns" "$@"
}

# lab_sipguard_hooks DIR SIPGUARD CONF: write DIR/rules.sh, DIR/up.sh and
# DIR/down.sh
# and export them as LAB_HOOK_UP/DOWN, so the lab comes up with sipguard
# judging Kamailio's UDP and TCP 5060 (IPv4 and IPv6, NFQUEUE 0, bypass when it
# is not running; its log in DIR/sg.log; CONF must put control.socket at
# DIR/control) and goes down with SIGTERM first, so the daemon saves its
# state and removes its nftables table before the lab kills the rest.
lab_sipguard_hooks() {
	local dir=$1 sg=$2 conf=$3
	# The queue rules on their own (DIR/rules.sh), so that a test can put
	# them back after a firewall reload took them.
	cat > "$dir/rules.sh" <<EOF
#!/bin/sh
for t in iptables ip6tables; do
	# A conntrack rule that does nothing but make the kernel reassemble
	# fragments before the hooks (nf_defrag), so the queue sees whole
	# datagrams (README: fragments).
	\$t -N sgdefrag 2>/dev/null
	\$t -A INPUT -m conntrack --ctstate INVALID -j sgdefrag
	for p in udp tcp; do
		\$t -A INPUT -p \$p --dport 5060 -j NFQUEUE --queue-num 0 --queue-bypass
		\$t -A OUTPUT -p \$p --sport 5060 -j NFQUEUE --queue-num 0 --queue-bypass
	done
done
EOF
	cat > "$dir/up.sh" <<EOF
#!/bin/sh
sh "$dir/rules.sh"
setsid -f "$sg" -f -c "$conf" >> "$dir/sg.log" 2>&1 < /dev/null
for i in \$(seq 1 50); do
	[ -S "$dir/control" ] && exit 0
	sleep 0.1
done
exit 1
EOF
	cat > "$dir/down.sh" <<EOF
#!/bin/sh
pkill -TERM -f "$sg -f -c $conf" || exit 0
for i in \$(seq 1 30); do
	pgrep -f "$sg -f -c $conf" >/dev/null || exit 0
	sleep 0.1
done
EOF
	chmod +x "$dir/rules.sh" "$dir/up.sh" "$dir/down.sh"
	export LAB_HOOK_UP=$dir/up.sh LAB_HOOK_DOWN=$dir/down.sh
}

lab_status() {
	local ns n pid up=0
	_lab_load_state
	echo "state: $LAB_STATE ${LAB_DIR:+(LAB_DIR=$LAB_DIR)}"
	for ns in $LAB_NETNS; do
		if _lab_ns_exists "$ns"; then
			up=$((up + 1))
			echo "netns $ns: pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
			if [ "$ns" = sgbr ]; then
				ip -n sgbr -br link show master br0 2>/dev/null | sed 's/^/  /'
			else
				ip -n "$ns" -br addr show dev eth0 2>/dev/null | sed 's/^/  /'
				ip -n "$ns" -br link show dev eth0 2>/dev/null | sed 's/^/  /'
			fi
		else
			echo "netns $ns: absent"
		fi
	done
	if pid=$(_lab_kam_pid) && kill -0 "$pid" 2>/dev/null; then
		echo "kamailio: running, pid $pid, log $LAB_DIR/kamailio.log"
		ip netns exec sgproxy ss -Hlunp 2>/dev/null | sed 's/^/  /'
	else
		echo "kamailio: not running"
	fi
	[ $up = 5 ] && [ -n "${LAB_DIR:-}" ]
}

lab_usage() {
	sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

lab_main() {
	local cmd=${1:-}
	if [ $# -gt 0 ]; then shift; fi
	case $cmd in
	up)
		lab_up "$@" && return 0
		_lab_say "up failed; 'tools/lab.sh down' cleans up (and deletes the logs in ${LAB_DIR:-?})"
		return 1
		;;
	down) lab_down "$@" ;;
	register) lab_register "$@" ;;
	call) lab_call "$@" ;;
	exec) lab_exec "$@" ;;
	status) lab_status "$@" ;;
	-h | --help | help) lab_usage ;;
	*) lab_usage >&2; return 2 ;;
	esac
}

# run only when executed, not when sourced
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	lab_main "$@"
	exit $?
fi
