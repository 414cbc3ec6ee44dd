#!/bin/sh
# Run every test program or script given; summarise; fail if any failed.
# Exit status 77 means skipped (not root, for the live tests): reported
# as such, loudly, never as a pass.
set -u
fail=0
skip=0
total=0
for t in "$@"; do
	total=$((total + 1))
	printf '== %s\n' "$(basename "$t")"
	"$t"
	rc=$?
	if [ "$rc" -eq 77 ]; then
		skip=$((skip + 1))
		printf '!! %s SKIPPED\n' "$(basename "$t")"
	elif [ "$rc" -ne 0 ]; then
		fail=$((fail + 1))
		printf '!! %s FAILED\n' "$(basename "$t")"
	fi
done
printf '\n%d of %d test programs passed' $((total - fail - skip)) "$total"
[ "$skip" -gt 0 ] && printf ', %d SKIPPED (run as root for all)' "$skip"
printf '\n'
[ "$fail" -eq 0 ]
