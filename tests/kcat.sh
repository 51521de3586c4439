#!/bin/sh
# kcat dumps are input (issue 11 item 1, SPEC §7): fixture events are
# produced into the mock cluster (tests/kafka-mock), a live daemon consumes
# them into the harness PostgreSQL, and the real kcat dumps both topics
# with `kcat -C -J -e`.  A replay of each form of dump must give exactly
# the daemon's rows (`telemetra dump`):
#
#   - one file per topic, given to replay as two files;
#   - both topics in one file, one topic after the other;
#   - the same through tune (its store opens lanes as replay does);
# and a dump whose topics the options do not name, or that is not JSON
# Lines at all, exits 1 with a hint.
#
# The daemon runs with --idle-timeout 3600: a kcat dump has no lane_idle or
# advance records (the daemon's wall-clock decisions), so it reproduces a
# run that made none.  Replays use --no-final-flush, as a stopped daemon
# leaves its windows open.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
command -v kcat >/dev/null 2>&1 || { echo "kcat is not installed (see README)"; exit 1; }

. "$top_srcdir/tests/pg-harness.sh"
. "$top_srcdir/tests/lib.sh"
harness_begin kcat
harness_postgres
new_db k1
harness_kafka 2

"$T" gen -q --seed 7 --streams 6 --events 20000 --spikes 2 -o "$tmp/gen.jsonl" || hard_error "gen failed"
N=$("$PRODUCE" "$BS" "$fx/streams_interleaved.jsonl" "$fx/malformed.jsonl" "$tmp/gen.jsonl") ||
	hard_error "producing into Kafka failed"
echo "produced $N messages"

live_until k1 k1 "$N" "$tmp/live.log"
"$T" dump "$(db_url k1)" >"$tmp/live.dump" || hard_error "dump of PostgreSQL failed"
grep -q '^# chat_summary_minute: 0 rows' "$tmp/live.dump" && fail "the daemon wrote no window rows"

for topic in chat viewer; do
	timeout 60 kcat -b "$BS" -C -J -e -q -t "telemetra.events.$topic" >"$tmp/$topic.kcat" ||
		hard_error "kcat -C -J of $topic failed"
done
cat "$tmp/chat.kcat" "$tmp/viewer.kcat" >"$tmp/both.kcat"
lines=$(cat "$tmp/both.kcat" | wc -l)
[ "$lines" -eq "$N" ] || fail "kcat dumped $lines messages of $N"

same() { # same NAME: its dump equals the daemon's
	"$T" dump "$tmp/$1.db" >"$tmp/$1.dump" || { fail "$1: dump failed"; return; }
	if cmp -s "$tmp/live.dump" "$tmp/$1.dump"; then
		ok "$1: the replay of the kcat dump equals the live daemon's rows ($(grep -c '^' "$tmp/live.dump") lines)"
	else
		fail "$1 differs from the live daemon:"; diff "$tmp/live.dump" "$tmp/$1.dump" | head -10
	fi
}
"$T" replay -q --no-final-flush -o "$tmp/two.db" "$tmp/chat.kcat" "$tmp/viewer.kcat" || fail "replay of two files"
same two
"$T" replay -q --no-final-flush -o "$tmp/rev.db" "$tmp/viewer.kcat" "$tmp/chat.kcat" || fail "replay of two files"
same rev
"$T" replay -q --no-final-flush -o "$tmp/both.db" "$tmp/both.kcat" || fail "replay of one file"
same both
"$T" replay -q --no-final-flush -o "$tmp/stdin.db" - <"$tmp/both.kcat"
# On standard input a lane opens at its first record (SPEC §7): the chat
# topic runs ahead of the viewer lanes it has not seen yet, so viewer
# events are late.
n_late=$("$T" dump "$tmp/stdin.db" | grep -c ',late,')
[ "$n_late" -gt 0 ] && ok "standard input: lanes open at their first record ($n_late late)" ||
	fail "standard input: expected late viewer events, as SPEC §7 says"

# tune over the same dumps: its one row is the replay's
"$T" tune -q --no-final-flush -o "$tmp/tune.db" "$tmp/chat.kcat" "$tmp/viewer.kcat" >"$tmp/tune.out" 2>&1 ||
	{ fail "tune over kcat dumps failed"; cat "$tmp/tune.out"; }
if command -v sqlite3 >/dev/null; then
	w=$(sqlite3 "$tmp/tune.db" "select windows from tuning_results" 2>/dev/null | head -1)
	rows=$(grep '^# chat_summary_minute:' "$tmp/live.dump" | sed 's/.*: \([0-9]*\) rows/\1/')
	[ "$w" = "$rows" ] && ok "tune over the kcat dumps: $w windows, as the daemon" ||
		fail "tune over the kcat dumps: $w windows, the daemon $rows"
fi

# wrong topic names, wrong format: exit 1 with a hint, dead letters kept
sed 's/telemetra\.events\.\(chat\|viewer\)/prod.\1/' "$tmp/both.kcat" |
	sed 's/\\"message\\":[^,}]*[,]\{0,1\}//; s/\\"viewer_count\\":[0-9]*[,]\{0,1\}//' >"$tmp/renamed.kcat"
expect 1 "wrong topic names.*prod.chat" "$T" replay -o "$tmp/renamed.db" "$tmp/renamed.kcat"
[ -s "$tmp/renamed.db" ] || fail "a run with no usable record lost its dead letters"
printf 'topic,partition,offset\nt,0,1\n' >"$tmp/csv.txt"
expect 1 "wrong format" "$T" replay -o "$tmp/csv.db" "$tmp/csv.txt"
: >"$tmp/empty.jsonl"
expect 1 "no records" "$T" replay -o "$tmp/empty.db" "$tmp/empty.jsonl"

[ "$failures" -eq 0 ] || { echo "$failures failures"; tail -5 "$tmp/live.log"; exit 1; }
echo "all kcat scenarios passed"
