#!/bin/sh
# Install the Debian packages the build, the tests and the demo need,
# only those that are missing (dpkg-query), with one apt-get call.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-dev libosip2-dev \
libconfig-dev libpcap-dev libsodium-dev libcmocka-dev libnetfilter-queue-dev \
libmnl-dev libnftnl-dev libsystemd-dev iproute2 iptables nftables kamailio \
sip-tester python3 dpkg-dev debhelper lintian libjansson-dev \
libhiredis-dev redis-server redis-sentinel systemd tshark"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: not root and no sudo: install$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
