#!/bin/sh
# tools/replay-all.sh OUTDIR: every scenario of tests/scenarios.c written
# as a pcap (sgpcap) and replayed with `sipguard -r' and the options it
# needs, over an empty configuration; the JSON Lines in OUTDIR/NAME.out,
# the summary in OUTDIR/NAME.err.  Two runs diffed (`diff -r A B') show
# whether a change of code changed a verdict, a reason or a line of
# output: a refactoring must leave them byte-identical.
# Environment: B (build directory, default build).
set -eu

B=${B:-build}
out=${1:?usage: tools/replay-all.sh OUTDIR}
mkdir -p "$out"
sg=$(realpath "$B/sipguard")
: > "$out/empty.conf"
for name in $("$B/sgpcap" list | awk '{ print $1 }'); do
	"$B/sgpcap" write "$name" "$out/$name.pcap" > "$out/$name.sets"
	# Each line of .sets is --set 'key = value': one argument each.
	set -- -r "$name.pcap" -c empty.conf
	while IFS= read -r line; do
		v=${line#--set \'}
		set -- "$@" --set "${v%\'}"
	done < "$out/$name.sets"
	(cd "$out" && "$sg" "$@" > "$name.out" 2> "$name.err") || true
	rm -f "$out/$name.pcap"
done
echo "replay-all: $(ls "$out"/*.out | wc -l) scenarios in $out"
