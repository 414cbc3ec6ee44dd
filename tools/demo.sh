#!/bin/sh
# make demo: forged-message attacks generated in code and replayed through
# the engine (`sipguard -r`), with a table of what was caught.
set -eu
B=${B:-build}
out=${DEMO_DIR:-$B/demo}
"$B/sgpcap" demo "$B/sipguard" "$out"
echo "Try one yourself:"
echo "  $B/sipguard -r $out/forged_bye.pcap --set 'proxy.addresses = [\"192.0.2.1\"]' | head"
