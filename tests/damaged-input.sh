#!/bin/sh
# Damaged gzip input (issue 9, item 6): a truncated file, a bad CRC, a
# corrupt block, trailing garbage — every complete line before the damage
# is processed exactly as if the file had ended there, the damage is one
# dead letter (damaged_input: file, line, byte offset, reason) and the
# summary says so; exit 0, since a dead letter is data (doc/decisions.md).
# Trailing zero padding is accepted as gzip(1) accepts it, with a warning.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"
T=$TELEMETRA

# ~1000 lines of the demo capture, so that damage lands well inside
gzip -dc "$fx/demo.jsonl.gz" | head -n 1000 >"$tmp/plain.jsonl"
gzip -9 -n -c "$tmp/plain.jsonl" >"$tmp/good.gz"
size=$(wc -c <"$tmp/good.gz")

# The window rows and moments of a replay (dead letters and runs left out).
rows() { $T dump "$1" | sed '/^# dead_letters/,$d'; }
# The number of complete lines gzip(1) itself gets out of a damaged file.
complete() { gzip -dc "$1" 2>/dev/null | tr -cd '\n' | wc -c; }

# check NAME PATTERN: replay $tmp/NAME.gz; the rows must equal those of the
# complete lines before the damage, replayed from a plain file (not for a
# corrupt block, where the inflater's last output before it noticed may be
# wrong bytes: those lines are whatever they decode to).
check() {
	name=$1 pattern=$2
	n=$(complete "$tmp/$name.gz")
	head -n "$n" "$tmp/plain.jsonl" >"$tmp/$name.prefix"
	expect 0 "$pattern" $T replay -o "$tmp/$name.db" "$tmp/$name.gz"
	[ "$name" = corrupt ] && n=$(sed -n 's/.*the \([0-9]*\) complete lines before.*/\1/p' "$tmp/out")
	grep -q "replayed 1 file: $((n + 1)) records.*damaged_input 1" "$tmp/out" ||
		fail "$name: the summary does not count $n lines and one damaged_input: $(tail -1 "$tmp/out")"
	$T replay -q -o "$tmp/$name.ref.db" "$tmp/$name.prefix" || fail "$name: reference replay"
	rows "$tmp/$name.db" >"$tmp/$name.rows"
	rows "$tmp/$name.ref.db" >"$tmp/$name.ref.rows"
	[ "$name" = corrupt ] || cmp -s "$tmp/$name.rows" "$tmp/$name.ref.rows" ||
		fail "$name: rows differ from those of the $n complete lines"
	$T dump "$tmp/$name.db" | grep -c ",damaged_input," | grep -qx 1 ||
		fail "$name: not exactly one damaged_input dead letter"
	[ "$n" -gt 400 ] || fail "$name: only $n lines before the damage?"
	ok "$name: $n complete lines kept, the damage is a dead letter"
}

# truncated: the last quarter cut off
head -c $((size - size / 40)) "$tmp/good.gz" >"$tmp/truncated.gz"
check truncated "gzip data ends early (truncated file?) at byte $((size - size / 40))"

# bad CRC: the trailer's CRC-32 (8 bytes from the end) flipped
cp "$tmp/good.gz" "$tmp/crc.gz"
printf '\377' | dd of="$tmp/crc.gz" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
check crc "corrupt gzip data (incorrect data check)"

# trailing garbage after the last member
{ cat "$tmp/good.gz"; printf 'this is not gzip\n'; } >"$tmp/garbage.gz"
check garbage "trailing garbage after the gzip data at byte $size of $((size + 17))"

# zero padding, then garbage: still damage
{ cat "$tmp/good.gz"; head -c 100 /dev/zero; printf 'x'; } >"$tmp/padgarbage.gz"
check padgarbage "trailing garbage after the zero padding of the gzip data at byte $((size + 100))"

# a corrupt deflate block in the middle: what decoded before it counts
cp "$tmp/good.gz" "$tmp/corrupt.gz"
head -c 64 /dev/zero | dd of="$tmp/corrupt.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
check corrupt "corrupt gzip data"

# zero padding (tape blocks): accepted as gzip(1) does, with a warning
{ cat "$tmp/good.gz"; head -c 4096 /dev/zero; } >"$tmp/padded.gz"
gzip -t "$tmp/padded.gz" 2>/dev/null; [ $? -le 2 ] || fail "gzip(1) rejects the padded file"
expect 0 "4096 zero bytes after the gzip data ignored" $T replay -o "$tmp/padded.db" "$tmp/padded.gz"
grep -q "replayed 1 file: 1000 records" "$tmp/out" || fail "padded: not 1000 records"
grep -q "dead letters (" "$tmp/out" && grep -q damaged_input "$tmp/out" && fail "padded: damage reported"
$T replay -q -o "$tmp/good.db" "$tmp/good.gz" || fail "good replay"
[ "$(rows "$tmp/padded.db")" = "$(rows "$tmp/good.db")" ] || fail "padded: rows differ from the file without padding"
ok "padded: zero padding ignored"

# damage in one file does not stop the next
n=$(complete "$tmp/truncated.gz")
expect 0 "replayed 2 files: $((n + 1 + 7)) records" \
	$T replay -o "$tmp/two.db" "$tmp/truncated.gz" "$fx/one_stream.jsonl"

# tune counts the damage as replay does, and goes on
expect 0 "damaged_input" $T tune -o "$tmp/tune.db" --grid threshold=3 "$tmp/truncated.gz"

[ "$failures" -eq 0 ] || exit 1
