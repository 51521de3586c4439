#!/bin/sh
# The JSON scanner's block paths (portable, SSE2, AVX2; core/json_scan.h)
# give byte-identical replays: every golden fixture, and a file made of the
# fuzz corpora's inputs (hostile, malformed, escaped and truncated records,
# one per line), replayed with each path this CPU has (TELEMETRA_SCANNER)
# and dumped, must match the run with the portable path.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fixtures="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# The corpora, each input one line (newlines inside become line breaks).
for f in "$top_srcdir"/tests/fuzz/corpus/event/* "$top_srcdir"/tests/fuzz/corpus/scan/*; do
	cat "$f"
	echo
done >"$tmp/corpus.jsonl"
lines=$(wc -l <"$tmp/corpus.jsonl")
[ "$lines" -ge 100 ] || { echo "FAIL: corpus file has only $lines lines"; exit 1; }

paths=portable
for p in sse2 avx2; do
	TELEMETRA_SCANNER=$p "$TELEMETRA" --version >/dev/null 2>&1 && paths="$paths $p"
done
case $(uname -m) in
x86_64) case $paths in *sse2*) ;; *) echo "FAIL: no SSE2 path on x86-64"; exit 1 ;; esac ;;
esac
echo "paths: $paths"

failed=0 count=0
run() { # path name args...: replay and dump into $tmp/path-name.dump
	p=$1 name=$2
	shift 2
	# shellcheck disable=SC2068
	(cd "$fixtures" && TELEMETRA_SCANNER=$p "$TELEMETRA" replay -q -o "$tmp/$p-$name.db" $@) \
		2>"$tmp/$p-$name.err" || true
	"$TELEMETRA" dump "$tmp/$p-$name.db" >"$tmp/$p-$name.dump" 2>>"$tmp/$p-$name.err"
	cat "$tmp/$p-$name.err" >>"$tmp/$p-$name.dump"
}
for args in "$fixtures"/*.args; do
	name=$(basename "$args" .args)
	a=$(grep -v '^[[:space:]]*#' "$args" | tr '\n' ' ')
	for p in $paths; do run "$p" "$name" $a; done
done
for p in $paths; do run "$p" corpus "$tmp/corpus.jsonl"; done
grep -q not_json "$tmp/portable-corpus.dump" || { echo "FAIL: the corpus made no not_json dead letter"; exit 1; }
for d in "$tmp"/portable-*.dump; do
	name=${d#"$tmp"/portable-}
	for p in $paths; do
		[ "$p" = portable ] && continue
		count=$((count + 1))
		if ! cmp -s "$d" "$tmp/$p-$name"; then
			echo "FAIL ${name%.dump}: $p differs from portable:"
			diff -u "$d" "$tmp/$p-$name" | head -20
			failed=$((failed + 1))
		fi
	done
done
[ "$failed" -eq 0 ] || { echo "$failed of $count comparisons failed"; exit 1; }
echo "ok   $count replays identical across paths ($paths)"
