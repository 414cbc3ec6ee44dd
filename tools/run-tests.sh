#!/bin/sh
# Run every test binary given; summarise; fail if any failed.
set -u
fail=0
total=0
for t in "$@"; do
	total=$((total + 1))
	printf '== %s\n' "$(basename "$t")"
	if ! "$t"; then
		fail=$((fail + 1))
		printf '!! %s FAILED\n' "$(basename "$t")"
	fi
done
printf '\n%d of %d test programs passed\n' $((total - fail)) "$total"
[ "$fail" -eq 0 ]
