#!/bin/sh
# `make fuzz`: build each fuzz target with clang's libFuzzer (plus ASan and
# UBSan) and fuzz it for FUZZ_SECONDS (default 60) from its committed seed
# corpus.  New inputs go to $top_builddir/tests/fuzz/work/TARGET, never to
# the committed corpus; a crash leaves its input there as crash-* and makes
# this exit 1.  To keep a crash fixed, copy its input into
# tests/fuzz/corpus/TARGET/ (then `make check` replays it with every build).
# FUZZ_FLAGS adds libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1" to
# collect every crash of a run instead of stopping at the first.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
: "${FUZZ_SECONDS:=60}"
: "${FUZZ_TARGETS:=event engine capture scan}"
: "${CLANG:=clang}"
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "make fuzz: skipped: $CLANG not found (Debian: apt-get install clang)"
	exit 0
fi
work="$top_builddir/tests/fuzz/work"
mkdir -p "$work" || exit 1
src="$top_srcdir/src"
core=$(ls "$src"/core/*.c | grep -v /lexicon_default.c)
# The engine target builds its configurations through the options table.
util="$src/cli/options.c $src/util/log.c $src/util/secret.c"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11
	-I$src -I$top_builddir/src -I$top_builddir -I$top_srcdir/tests/fuzz
	$(pkg-config --cflags jansson)"
status=0
for t in $FUZZ_TARGETS; do
	bin="$work/fuzz_$t"
	extra=
	[ "$t" = engine ] && extra=$util
	echo "make fuzz: building $t with $CLANG"
	# shellcheck disable=SC2086
	$CLANG $flags -o "$bin" "$top_srcdir/tests/fuzz/fuzz_$t.c" $core \
		"$top_builddir/src/core/lexicon_default.c" $extra $(pkg-config --libs jansson) -lm || exit 1
	mkdir -p "$work/$t"
	echo "make fuzz: fuzzing $t for $FUZZ_SECONDS s"
	if ! (cd "$work" && "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$work/$t-" -print_final_stats=1 ${FUZZ_FLAGS:-} \
		"$work/$t" "$top_srcdir/tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1); then
		echo "make fuzz: $t CRASHED; see $work/$t.log and $work/$t-crash-*"
		tail -30 "$work/$t.log"
		status=1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | sed "s/^/  $t: /"
done
exit $status
