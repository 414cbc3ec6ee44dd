#!/bin/sh
# Module II measured, the fast subset (bench/eval.c -q, issue 11): fails
# when a legitimate stress profile gets a device alarmed or a message
# dropped; an insider not caught within 40 s is a "known miss" (the rise
# test catches 4x insiders in 35-55 s; EVAL_STRICT=1 makes it fail).
# One known failure, module I's alone (--known1: module II alarming or
# dropping there still fails): after a proxy outage longer than what was
# left of their registrations, phones are unregistered until they
# register again, and module I drops their other requests (case b) till
# then (issue 11, open).
set -u
B=${B:-build}
if [ ! -x "$B/bench/eval" ]; then
	echo "eval_quick: build $B/bench/eval first"
	exit 1
fi
exec nice -n 10 "$B/bench/eval" -q --check --known1 rereg-storm
