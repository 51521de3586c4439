#!/bin/sh
# Bounded reads of Kafka (issue 11 item 2): `telemetra capture` and
# `telemetra replay --kafka` against the mock cluster (tests/kafka-mock),
# compared with a live daemon over the same range (harness PostgreSQL):
#
#   1. batch A is produced; a time T is taken; batch B is produced later.
#      A daemon consumes A only and stops.  `capture --to T` (a time range
#      that ends mid-window: A's last windows are open) and `replay --kafka
#      --to T`, both with --no-final-flush, give exactly the daemon's rows.
#   2. The daemon then consumes B too: `capture --to now` of everything
#      equals it again, and so does an offset range --from T:P:O,... over
#      B appended to the capture of A.
#   3. An empty range, a bad range and an existing output: clear messages.
#
# The mock cluster does not answer offsets_for_times (librdkafka 2.0.2's
# mock returns -1), so --to TIME ends each partition at its first message
# at or after TIME, which is the offset a real broker names.
#
# --no-final-flush semantics: a daemon that stops leaves its open windows
# unwritten, so the range's replay must leave them open too to equal it;
# without --no-final-flush the replay also writes the windows still open
# at the end of the range, partial when the range ends mid-window.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"

. "$top_srcdir/tests/pg-harness.sh"
. "$top_srcdir/tests/lib.sh"
harness_begin capture
harness_postgres
new_db c1
sql() { sql_in c1 "$1"; }
harness_kafka 2

"$T" gen -q --seed 11 --streams 6 --events 20000 --spikes 2 -o "$tmp/gen.jsonl" || hard_error "gen failed"
head -n 12000 "$tmp/gen.jsonl" >"$tmp/a.jsonl"
tail -n +12001 "$tmp/gen.jsonl" >"$tmp/b.jsonl"
NA=$("$PRODUCE" "$BS" "$fx/streams_interleaved.jsonl" "$fx/malformed.jsonl" "$tmp/a.jsonl") ||
	hard_error "producing A failed"
# T: a millisecond after every message of A, before any of B
t0=$(date +%s%3N)
until [ "$(date +%s%3N)" -gt "$t0" ]; do sleep 0.001; done
TIME=$(date +%s%3N)
until [ "$(date +%s%3N)" -gt "$TIME" ]; do sleep 0.001; done

same() { # same NAME DUMP: the replay NAME.db equals DUMP
	"$T" dump "$tmp/$1.db" >"$tmp/$1.dump" || { fail "$1: dump failed"; return; }
	if cmp -s "$2" "$tmp/$1.dump"; then
		ok "$1 equals the live daemon over the same range ($(grep -c '^' "$2") lines)"
	else
		fail "$1 differs from the live daemon:"; diff "$2" "$tmp/$1.dump" | head -10
	fi
}

# 1. a time range ending mid-window
live_until c1 c1 "$NA" "$tmp/live.log"
"$T" dump "$(db_url c1)" >"$tmp/liveA.dump" || hard_error "dump failed"
NB=$("$PRODUCE" "$BS" "$tmp/b.jsonl") || hard_error "producing B failed"
expect 0 "captured $NA messages" "$T" capture --brokers "$BS" --to "$TIME" -o "$tmp/a.cap"
"$T" replay -q --no-final-flush -o "$tmp/capA.db" "$tmp/a.cap" || fail "replay of the capture of A"
same capA "$tmp/liveA.dump"
"$T" replay -q --no-final-flush --kafka "$BS" --to "$TIME" -o "$tmp/kafkaA.db" || fail "replay --kafka of A"
same kafkaA "$tmp/liveA.dump"
# the range ended mid-window: a final flush writes the open windows too
"$T" replay -q -o "$tmp/flushA.db" "$tmp/a.cap" || fail "replay with final flush"
open=$(($("$T" dump "$tmp/flushA.db" | grep -c '^') - $(grep -c '^' "$tmp/liveA.dump")))
[ "$open" -gt 0 ] && ok "with the final flush, $open more lines: the windows open at --to" ||
	fail "the range should end mid-window (final flush added $open lines)"
if command -v sqlite3 >/dev/null; then
	n=$(sqlite3 "$tmp/kafkaA.db" "select sum(json_extract(value, '\$.to_offset') - json_extract(value, '\$.from_offset')) from runs, json_each(runs.inputs)")
	[ "$n" = "$NA" ] && ok "runs records the range read ($n messages)" || fail "runs.inputs range: $n, want $NA"
fi

# 2. the whole range, and an offset range appended
offsets=$(sql "SELECT string_agg(topic || ':' || partition || ':' || next_offset, ',') FROM consumer_offsets")
live_until c1 c1 $((NA + NB)) "$tmp/live.log"
"$T" dump "$(db_url c1)" >"$tmp/liveAB.dump"
expect 0 "captured $((NA + NB)) messages" "$T" capture --brokers "$BS" --from earliest --to now -o "$tmp/ab.cap"
"$T" replay -q --no-final-flush -o "$tmp/capAB.db" "$tmp/ab.cap"
same capAB "$tmp/liveAB.dump"
expect 0 "captured $NB messages" "$T" capture --brokers "$BS" --from "$offsets" --to end -o "$tmp/b.cap"
"$T" replay -q --no-final-flush -o "$tmp/capA_B.db" "$tmp/a.cap" "$tmp/b.cap"
same capA_B "$tmp/liveAB.dump"

# 3. empty and bad ranges, existing output
expect 1 "holds no message" "$T" capture --brokers "$BS" --to 1000000000000 -o "$tmp/empty.cap"
[ -e "$tmp/empty.cap" ] && fail "an empty range left a file"
# librdkafka's own lines reach our log when asked for (-X debug=...)
expect 1 "librdkafka [A-Z]*: " "$T" capture --brokers "$BS" -X debug=metadata --to 1000000000000 \
	-o "$tmp/empty.cap"
expect 1 "holds no message" "$T" replay --kafka "$BS" --from "$((TIME + 3600000))" -o "$tmp/empty.db"
expect 2 "--to: expected" "$T" capture --brokers "$BS" --to yesterday -o "$tmp/x.cap"
expect 2 "must be later" "$T" capture --brokers "$BS" --from "$TIME" --to "$((TIME - 1))" -o "$tmp/x.cap"
expect 2 "is not TOPIC:PARTITION:OFFSET" "$T" capture --brokers "$BS" --from "t:x:1" -o "$tmp/x.cap"
expect 2 "never overwrites" "$T" capture --brokers "$BS" -o "$tmp/a.cap"
expect 2 "give --kafka" "$T" replay --to now -o "$tmp/x.db" "$tmp/a.cap"
expect 1 "no partition 7" "$T" capture --brokers "$BS" --from telemetra.events.chat:7:0 -o "$tmp/x.cap"

[ "$failures" -eq 0 ] || { echo "$failures failures"; tail -5 "$tmp/live.log"; exit 1; }
echo "all capture scenarios passed"
