#!/bin/sh
# The fuzz targets over their committed corpus, once each input: a
# regression run, no fuzzing (that is `make fuzz`, tests/fuzz/fuzz.sh).
# The targets are built by the normal build with tests/fuzz/standalone_main.c,
# so this needs no clang; under --enable-sanitizers it runs under ASan and
# UBSan like the libFuzzer build.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
failures=0
for t in event engine capture scan; do
	corpus="$top_srcdir/tests/fuzz/corpus/$t"
	n=$(ls "$corpus" | wc -l)
	[ "$n" -gt 0 ] || { echo "FAIL: empty corpus $corpus"; failures=$((failures + 1)); continue; }
	if out=$("$top_builddir/tests/fuzz/fuzz_$t" "$corpus" 2>&1); then
		echo "ok   $out"
	else
		echo "FAIL: fuzz_$t over $corpus:"
		echo "$out" | tail -20 | sed 's/^/    /'
		failures=$((failures + 1))
	fi
done
[ "$failures" -eq 0 ] || exit 1
