#!/bin/sh
# replay --threads 2 (a reader thread decodes, this thread aggregates,
# joined by a ring of decoded lines in input order) gives the dump of
# --threads 1, byte for byte:
#   1. every golden fixture, with its own arguments;
#   2. a generated log with disorder, late and malformed lines, read
#      mapped, from a pipe (lines copied into the ring), gzip-compressed,
#      split over three files, and as capture envelopes over two partitions;
#   3. a log with a line over the 16 MiB limit and a 2 MiB dead line, so
#      that blocks grow past their arena and shrink back;
#   4. the lanes of a file large enough to be scanned in two halves;
#   5. the SHA-256 in runs.inputs (hashed on a thread of its own), and a
#      sink failing mid-run (rows are written on a writer thread).
# And the comparison can tell: moving one ring's worth of lines (4096)
# behind the next changes the dump, so a pipeline that handed blocks over
# out of order would fail here.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fixtures="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# dump_of NAME THREADS REPLAY-ARGS...: replay (in $dir), dump into $tmp/NAME.THREADS.dump
dump_of() {
	name=$1 threads=$2
	shift 2
	(cd "$dir" && "$TELEMETRA" replay -q --threads "$threads" -o "$tmp/$name.$threads.db" "$@") \
		>"$tmp/$name.err" 2>&1 || { cat "$tmp/$name.err"; fail "$name: replay --threads $threads failed"; }
	"$TELEMETRA" dump "$tmp/$name.$threads.db" >"$tmp/$name.$threads.dump" || fail "$name: dump failed"
	mv "$tmp/$name.err" "$tmp/$name.$threads.err"
}

# same NAME REPLAY-ARGS...: --threads 1 and 2 give one dump and one stderr
same() {
	name=$1
	shift
	dump_of "$name" 1 "$@"
	dump_of "$name" 2 "$@"
	diff -u "$tmp/$name.1.dump" "$tmp/$name.2.dump" >"$tmp/$name.diff" ||
		{ head -30 "$tmp/$name.diff"; fail "$name: --threads 2 gives another dump than --threads 1"; }
	diff -u "$tmp/$name.1.err" "$tmp/$name.2.err" >"$tmp/$name.diff" ||
		{ cat "$tmp/$name.diff"; fail "$name: --threads 2 says other things than --threads 1"; }
}

dir=$fixtures
count=0
for args_file in "$fixtures"/*.args; do
	name=$(basename "$args_file" .args)
	# shellcheck disable=SC2046 # the args file is a word list
	same "fixture-$name" $(grep -v '^[[:space:]]*#' "$args_file" | tr '\n' ' ')
	count=$((count + 1))
done
[ "$count" -ge 10 ] || fail "only $count fixtures"
echo "ok   $count fixtures: --threads 2 = --threads 1"

dir=$tmp
"$TELEMETRA" gen -q --seed 7 --streams 20 --events 120000 --spikes 3 --disorder 0.05 \
	--late 0.01 --malformed 0.01 -o "$tmp/gen.jsonl" || fail "gen failed"
same gen gen.jsonl
late=$(grep -c ',late,' "$tmp/gen.1.dump")
bad=$(grep -c ',not_json,\|,not_object,\|,missing_field,\|,wrong_type,\|,bad_timestamp,' "$tmp/gen.1.dump")
rows=$(grep -c '^stream_' "$tmp/gen.1.dump")
[ "$late" -gt 100 ] && [ "$bad" -gt 100 ] && [ "$rows" -gt 1000 ] ||
	fail "the generated log has $late late and $bad malformed lines, $rows window rows: not a test"
echo "ok   generated log ($rows window rows, $late late, $bad malformed): --threads 2 = --threads 1"

# From a pipe the lines do not stay put: the ring carries copies.
dump_of pipe 1 - <"$tmp/gen.jsonl"
dump_of pipe 2 - <"$tmp/gen.jsonl"
cmp -s "$tmp/pipe.1.dump" "$tmp/pipe.2.dump" || fail "standard input: --threads 2 differs"
gzip -c "$tmp/gen.jsonl" >"$tmp/gen.jsonl.gz"
same gzip gen.jsonl.gz
head -n 40000 "$tmp/gen.jsonl" >"$tmp/part1.jsonl"
sed -n '40001,80000p' "$tmp/gen.jsonl" >"$tmp/part2.jsonl"
tail -n +80001 "$tmp/gen.jsonl" >"$tmp/part3.jsonl"
same parts part1.jsonl part2.jsonl part3.jsonl
cmp -s "$tmp/gen.1.dump" "$tmp/parts.1.dump" && fail "three files gave the dump of one (dead letters name their file)"
echo "ok   standard input, gzip, three files: --threads 2 = --threads 1"

# The SHA-256 in runs.inputs, hashed on a thread of its own with
# --threads 2, is each file's, as with one thread.
want=
for f in part1 part2 part3; do
	want="$want$(sha256sum <"$tmp/$f.jsonl" | cut -d' ' -f1),"
done
for t in 1 2; do
	got=$(sqlite3 "$tmp/parts.$t.db" "select group_concat(json_extract(value, '\$.sha256'), ',') || ',' from runs, json_each(runs.inputs)")
	[ "$got" = "$want" ] || fail "--threads $t: runs.inputs holds sha256s $got; the files' are $want"
done
echo "ok   runs.inputs sha256 of three files, --threads 1 and 2: the files' own"

# Capture envelopes: stream s<even> on partition 0, s<odd> on 1; the
# payload is the line, escaped (malformed lines stay malformed payloads).
awk '{
	v = $0; gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); gsub(/\t/, "\\t", v)
	p = (match($0, /"stream_id":"[^"]*[02468]"/) ? 0 : 1)
	t = index($0, "viewer_count") ? "telemetra.events.viewer" : "telemetra.events.chat"
	printf "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%d,\"value\":\"%s\"}\n", t, p, o[t, p]++, v
}' "$tmp/gen.jsonl" >"$tmp/env.jsonl"
same env env.jsonl
env_rows=$(grep -c '^stream_' "$tmp/env.1.dump")
[ "$env_rows" -gt 1000 ] || fail "the envelopes gave $env_rows window rows: not a test"
dump_of envpipe 1 - <"$tmp/env.jsonl"
dump_of envpipe 2 - <"$tmp/env.jsonl"
cmp -s "$tmp/envpipe.1.dump" "$tmp/envpipe.2.dump" || fail "envelopes from a pipe: --threads 2 differs"
echo "ok   capture envelopes, two partitions ($env_rows window rows): --threads 2 = --threads 1"

# A file large enough that --threads 2 scans it for lanes in two halves
# at once (io/lanescan.c): every chat envelope, then the viewer ones, so
# that the viewer lanes appear only in the second half.  Open from the
# start, they hold their groups' watermarks back while the chat lanes run
# ahead; opened at their first record (as from a pipe, which is not
# scanned), their events come late: a lost lane would show.
{
	grep -a '"topic":"telemetra.events.chat"' "$tmp/env.jsonl"
	grep -av '"topic":"telemetra.events.chat"' "$tmp/env.jsonl"
} >"$tmp/halves.jsonl"
[ "$(wc -c <"$tmp/halves.jsonl")" -gt $((32 << 20)) ] || fail "halves.jsonl is too small to be scanned in halves"
same halves halves.jsonl
dump_of halvespipe 1 - <"$tmp/halves.jsonl"
late_file=$(grep -c ',late,' "$tmp/halves.1.dump")
late_pipe=$(grep -c ',late,' "$tmp/halvespipe.1.dump")
[ "$late_pipe" -gt $((late_file + 1000)) ] ||
	fail "viewer lanes opened late give $late_pipe late events, open from the start $late_file: not a test"
echo "ok   lanes of a file scanned in two halves ($late_file late; $late_pipe unscanned): --threads 2 = --threads 1"

# Oversized lines: one over the 16 MiB limit (a dead letter with its first
# MiB; 19 MB of numbers, not one byte repeated, so that bytes written over
# before they were hashed would change the digest), one of 2 MiB that is
# not JSON.
{
	head -n 3000 "$tmp/gen.jsonl"
	seq 1 2500000 | tr '\n' x
	echo
	sed -n '3001,6000p' "$tmp/gen.jsonl"
	printf '{"stream_id": '
	head -c 2000000 /dev/zero | tr '\0' y
	echo
	sed -n '6001,9000p' "$tmp/gen.jsonl"
} >"$tmp/big.jsonl"
same big big.jsonl
dump_of bigpipe 1 - <"$tmp/big.jsonl"
dump_of bigpipe 2 - <"$tmp/big.jsonl"
cmp -s "$tmp/bigpipe.1.dump" "$tmp/bigpipe.2.dump" || fail "oversized lines from a pipe: --threads 2 differs"
grep -q ',too_large,' "$tmp/big.1.dump" || fail "the 19 MB line is not a too_large dead letter"
# With --threads 2 the hasher hashes the reader's own buffers, and the
# reader writes over those buffers to skip an overlong line: the digest
# must still be the file's.
want=$(sha256sum <"$tmp/big.jsonl" | cut -d' ' -f1)
for t in 1 2; do
	got=$(sqlite3 "$tmp/big.$t.db" "select json_extract(inputs, '\$[0].sha256') from runs")
	[ "$got" = "$want" ] || fail "--threads $t, oversized lines: runs.inputs sha256 $got; the file's is $want"
done
echo "ok   oversized lines, mapped and piped: --threads 2 = --threads 1, the file's sha256"

# A sink that fails mid-run (the file size limit): exit 1 and the same
# message, whether rows are written on the engine's thread or the writer's.
for t in 1 2; do
	rm -f "$tmp/full.db"
	(cd "$tmp" && ulimit -f 300 && trap '' XFSZ &&
		exec "$TELEMETRA" replay -q --threads "$t" -o full.db gen.jsonl) >"$tmp/full.$t.err" 2>&1
	echo "exit $?" >>"$tmp/full.$t.err"
done
# (A fresh file's window indexes are built at the end: the limit may be
# met when the rows are committed, or there; with the fresh file's smaller
# page cache, the cache also spills while rows are written.)
grep -q 'exit 1' "$tmp/full.1.err" &&
	grep -Eq 'error: SQLite full.db: (writing a|writing chat_summary_minute rows|committing the rows|building the chat_summary_minute indexes)' "$tmp/full.1.err" ||
	{ cat "$tmp/full.1.err"; fail "a full disk did not fail the run"; }
diff -u "$tmp/full.1.err" "$tmp/full.2.err" || fail "a full disk: --threads 2 fails otherwise than --threads 1"
echo "ok   a sink failing mid-run: --threads 2 fails as --threads 1 does"

# The comparison sees order: swap lines 4097-8192 with 8193-12288.
awk 'NR > 4096 && NR <= 8192 { held[NR] = $0; next }
	{ print }
	NR == 12288 { for (i = 4097; i <= 8192; i++) print held[i] }' "$tmp/gen.jsonl" >"$tmp/swapped.jsonl"
[ "$(wc -l <"$tmp/swapped.jsonl")" -eq "$(wc -l <"$tmp/gen.jsonl")" ] || fail "the swap lost lines"
dump_of swapped 1 swapped.jsonl
# Window rows only: dead letters name their line numbers, which the swap
# changes whatever the engine does.
grep '^stream_' "$tmp/gen.1.dump" >"$tmp/gen.rows"
grep '^stream_' "$tmp/swapped.1.dump" >"$tmp/swapped.rows"
cmp -s "$tmp/gen.rows" "$tmp/swapped.rows" &&
	fail "moving 4096 lines behind the next 4096 left the window rows as they were: this test could not see a reordering"
echo "ok   a block of 4096 lines moved changes the window rows: the comparison sees order"

# The writer thread copies rows into 16 KiB chunks (io/writer.c); a row
# larger than a chunk gets one of its own.  Bad lines of 20 and 40 KB among
# good ones: each dead letter keeps every byte of its line, in order.
awk 'BEGIN {
	t0 = 1763899200000
	x = "x"; while (length(x) < 40000) x = x x
	for (i = 0; i < 300; i++) {
		printf "{\"timestamp\":%.0f,\"stream_id\":\"a\",\"user_id\":\"u%d\",\"message\":\"hi\"}\n", t0 + i * 1000, i % 9
		if (i % 100 == 50)
			printf "{\"timestamp\":%.0f,\"stream_id\":\"a\",\"bad\":\"%s\"\n", t0 + i * 1000, substr(x, 1, 20000 * (1 + int(i / 100) % 2))
	}
}' >"$tmp/big.jsonl"
same big big.jsonl
raw=$(sqlite3 -batch -noheader "$tmp/big.2.db" "select group_concat(length(raw), ' ') from (select raw from dead_letters order by position)")
[ "$raw" = "20051 40051 20051" ] || fail "dead letters of 20 and 40 KB through the writer: lengths '$raw'"
echo "ok   dead letters larger than a writer chunk: whole, and --threads 2 = --threads 1"
