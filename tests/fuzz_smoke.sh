#!/bin/sh
# tests/fuzz_smoke.sh: every libFuzzer harness of tests/fuzz for a few
# seconds (FUZZ_SMOKE_SECONDS, default 5) on its seeds, built with clang,
# ASan and UBSan in build-fuzz: `make fuzz-smoke', as `make check' runs
# it.  The seeds are the test suite's own traffic (tests/fuzz/seedgen.c),
# so the smoke run replays every scenario's frames under the sanitizers
# before it mutates them.  A crash, a leak, a sanitizer report or a
# broken promise of a harness fails the test; its input is kept in
# build-fuzz/crashes/.  The long runs are `make fuzz' (FUZZ_SECONDS,
# default 600, each).
set -u

cd "$(dirname "$0")/.." || exit 1
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "fuzz_smoke: no ${FUZZ_CC:-clang} (make deps installs it)" >&2
	exit 1
fi
exec "${MAKE:-make}" -s --no-print-directory fuzz-smoke
