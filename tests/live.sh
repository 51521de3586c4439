#!/bin/sh
# Integration tests of `telemetra live` against real components: a
# librdkafka mock cluster reached over TCP (tests/kafka-mock) and a private
# PostgreSQL server (tests/pg-harness.sh).  Each scenario compares
# `telemetra dump` of what the daemon committed to PostgreSQL with `telemetra
# dump` of a replay of the daemon's own --capture file (--no-final-flush, as
# a daemon that stops leaves its windows open):
#
#   1. a clean run over fixture logs, stopped with SIGTERM (and its runs row);
#   2. kill -9 at three points of one run, restarted each time;
#   3. PostgreSQL away when the daemon starts, then stopped for a few
#      seconds mid-run;
#   4. every broker taken down and up mid-run;
#   5. two daemons in one group over 4 partitions: the union of their
#      output equals the output of one daemon;
#   6. a daemon stopped (SIGSTOP) past its session timeout: the group gives
#      its partitions to another; resumed, it learns they are lost and
#      lets go without committing; the output is still one daemon's;
#   7. restarts with other options: a checkpoint without a fingerprint
#      loads; another --window/--slide is refused (exit 2), so is a
#      seed-era state (no "detector" in its fingerprint) under pane; --reset-state
#      resumes with empty state and the new windowing;
#   8. a saved state that cannot be loaded stops the daemon with exit 1;
#   9. a --capture path of 3 KB commits (its key is a hash);
#  10. one daemon stopped (SIGSTOP) past its session, alone in its group:
#      it loses its partitions, gets them back in the same process and
#      consumes what was produced meanwhile; the capture holds each offset
#      once, its replay equals PostgreSQL, and the runs row counts each
#      record once;
#  11. a rebalance while PostgreSQL is away: the partitions a paused daemon
#      keeps stay paused (their lag still counted), and those it gave away
#      are fetched again when they come back.
#  12. a rebalance while PostgreSQL is away, with a batch in hand: the
#      revocation cannot commit, so it is a loss; the capture holds each
#      offset once and its replay equals PostgreSQL.
#
# Synchronisation polls the committed offsets in PostgreSQL and the daemon's
# log, each with a deadline; the only sleeps are the lengths of outages.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"

. "$top_srcdir/tests/pg-harness.sh"
. "$top_srcdir/tests/lib.sh"
harness_on_exit() { # LIVE_LOGS=DIR keeps the logs, dumps and captures for a post-mortem.
	[ -n "${LIVE_LOGS:-}" ] && [ -n "$tmp" ] && cp "$tmp"/*.log "$tmp"/*.dump "$tmp"/*.capture "$LIVE_LOGS"/ 2>/dev/null
}
harness_begin live

# --- servers ----------------------------------------------------------------------

harness_postgres
harness_kafka 4

# Everything the scenarios consume, produced once: fixture logs (bad lines
# included) and generated traffic, keyed by stream_id.
"$TELEMETRA" gen -q --seed 5 --streams 12 --events 40000 --spikes 3 -o "$tmp/gen.jsonl" ||
	hard_error "gen failed"
N=$("$PRODUCE" "$BS" "$fx/streams_interleaved.jsonl" "$fx/malformed.jsonl" \
	"$fx/seed_producer.jsonl" "$tmp/gen.jsonl") || hard_error "producing into Kafka failed"
echo "produced $N messages to $BS"
produced=$N # in the topics so far, for scenarios that read them all

# --- the daemon ---------------------------------------------------------------------

# start_daemon NAME DB GROUP [OPTIONS...]: in the background, log in $tmp/NAME.log
start_daemon() {
	name=$1 db=$2 group=$3
	shift 3
	"$TELEMETRA" live --brokers "$BS" --postgres "$(db_url "$db")" --group "$group" \
		--offset-reset earliest --trigger 0.2 --max-batch 2000 --capture "$tmp/$name.capture" \
		-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 "$@" >>"$tmp/$name.log" 2>&1 &
	last_pid=$!
	pids="$pids $last_pid"
}

reached() { n=$(committed "$1" "$2"); [ "${n:-0}" -ge "$3" ]; }
# metrics_port NAME: the port the newest daemon logging to $tmp/NAME.log serves
# /metrics on (started with --metrics 127.0.0.1:0)
metrics_port() { sed -n 's/.*serving \/metrics.* (port \([0-9]*\)).*/\1/p' "$tmp/$1.log" | tail -1; }
# consumed N: the daemon serving $port has handled at least N records
consumed() { n=$(metric_sum telemetra_records_consumed_total); [ "${n:-0}" -ge "$1" ]; }
# metric_sum NAME: the sum of a metric's series on the daemon serving $port
metric_sum() {
	curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" 'index($0, m "{") == 1 { s += $2 } END { print s + 0 }'
}
logged() { grep -q -e "$2" "$tmp/$1.log"; }

stop_daemon() { # stop_daemon PID NAME: SIGTERM, expect exit 0
	kill -TERM "$1"
	wait "$1"
	st=$?
	[ "$st" -eq 0 ] || { fail "$2 exited $st on SIGTERM"; tail -5 "$tmp/$2.log"; }
}

compare_with_capture() { # compare_with_capture NAME DB
	"$TELEMETRA" dump "$(db_url "$2")" >"$tmp/$1.live.dump" || { fail "$1: dump of PostgreSQL failed"; return; }
	"$TELEMETRA" replay -q --no-final-flush -o "$tmp/$1.replay.db" "$tmp/$1.capture" ||
		{ fail "$1: replay of the capture failed"; return; }
	"$TELEMETRA" dump "$tmp/$1.replay.db" >"$tmp/$1.replay.dump"
	rows=$(grep -c '^' "$tmp/$1.live.dump")
	if cmp -s "$tmp/$1.live.dump" "$tmp/$1.replay.dump"; then
		echo "ok   $1: PostgreSQL and the replay of the capture agree ($rows lines)"
	else
		fail "$1: PostgreSQL and the replay of its capture differ:"
		diff "$tmp/$1.live.dump" "$tmp/$1.replay.dump" | head -20
	fi
	[ "$(grep -c '^# ' "$tmp/$1.live.dump")" = 3 ] || fail "$1: dump lacks tables"
	grep -q '^# chat_summary_minute: 0 rows' "$tmp/$1.live.dump" && fail "$1: no window rows at all"
}

# 1. a clean run ------------------------------------------------------------------------
step "1. clean run, stopped with SIGTERM"
new_db s1
start_daemon s1 s1 g1
d=$last_pid
wait_for "s1 to commit all $N records" 120 reached s1 g1 "$N"
stop_daemon "$d" s1
logged s1 "partitions assigned" || fail "s1: no assignment logged"
logged s1 "committed .* batch" || fail "s1: no batch commit logged"
grep -q "telemetra-secret" "$tmp/s1.log" && fail "s1: the password appears in the log"
compare_with_capture s1 s1
# The start is one runs row, finished by the clean stop, whose counts are
# what the database holds.
runs=$(sql_in s1 "SELECT count(*) FROM runs")
[ "$runs" = 1 ] || fail "s1: $runs runs rows after one start, want 1"
got=$(sql_in s1 "SELECT command, mode, finished_at IS NOT NULL, records, windows, moments, dead_letters,
	version <> '' AND host <> '' AND config ? 'group' AND config::text NOT LIKE '%telemetra-secret%'
	FROM runs")
want="live|live|t|$N|$(sql_in s1 "SELECT count(*) FROM chat_summary_minute")|$(sql_in s1 "SELECT count(*) FROM moments")|$(sql_in s1 "SELECT count(*) FROM dead_letters")|t"
[ "$got" = "$want" ] && echo "ok   1: runs row $got" || fail "s1: runs row '$got', want '$want'"

# 2. kill -9 at three points -------------------------------------------------------------
step "2. kill -9 at three points of one run"
new_db s2
for quarter in 1 2 3; do
	start_daemon s2 s2 g2
	d=$last_pid
	wait_for "s2 to pass $quarter/4" 120 reached s2 g2 $((N * quarter / 4))
	kill -9 "$d"
	wait "$d" 2>/dev/null
	echo "   killed at $(committed s2 g2) of $N committed"
done
start_daemon s2 s2 g2
d=$last_pid
wait_for "s2 to commit all $N records" 180 reached s2 g2 "$N"
stop_daemon "$d" s2
dups=$(sql_in s2 "SELECT count(*) - count(DISTINCT (stream_id, window_start, window_end)) FROM chat_summary_minute")
[ "$dups" = 0 ] || fail "s2: $dups duplicate window keys"
compare_with_capture s2 s2

# 3. PostgreSQL away ----------------------------------------------------------------------
step "3. PostgreSQL away at start-up, then stopped mid-run"
new_db s3
pg_harness_stop_server || hard_error "cannot stop PostgreSQL"
start_daemon s3 s3 g3
d=$last_pid
wait_for "s3 to report the database away" 30 logged s3 "retrying with backoff"
sleep 6 # the outage: longer than one-shot commands' 5 s of connect retries
pg_harness_start_server || hard_error "cannot start PostgreSQL again"
wait_for "s3 to pass 30%" 120 reached s3 g3 $((N * 3 / 10))
logged s3 "ready after" || fail "s3: the database's return at start-up was not logged"
[ "$(grep -c "warning" "$tmp/s3.log")" = 1 ] ||
	{ fail "s3: one start-up outage, several warnings:"; grep warning "$tmp/s3.log"; }
pg_harness_stop_server || hard_error "cannot stop PostgreSQL"
wait_for "s3 to notice the database is away" 30 logged s3 "cannot commit"
sleep 3 # the outage
pg_harness_start_server || hard_error "cannot start PostgreSQL again"
wait_for "s3 to commit all $N records" 120 reached s3 g3 "$N"
logged s3 "is back after" || fail "s3: the recovery was not logged"
stop_daemon "$d" s3
compare_with_capture s3 s3

# 4. Kafka away -----------------------------------------------------------------------------
step "4. every broker down and up mid-run"
new_db s4
start_daemon s4 s4 g4
d=$last_pid
wait_for "s4 to pass 30%" 120 reached s4 g4 $((N * 3 / 10))
mock "down all"
wait_for "s4 to notice Kafka is away" 30 logged s4 "Kafka unreachable"
sleep 3 # the outage
mock "up all"
wait_for "s4 to commit all $N records" 180 reached s4 g4 "$N"
stop_daemon "$d" s4
compare_with_capture s4 s4

# 5. two daemons ---------------------------------------------------------------------------
step "5. two daemons in one group over 4 partitions"
new_db s5ref
new_db s5
start_daemon s5ref s5ref g5ref --idle-timeout 3600
d=$last_pid
wait_for "the single daemon to commit all" 120 reached s5ref g5ref "$N"
stop_daemon "$d" s5ref
start_daemon s5a s5 g5 --idle-timeout 3600
a=$last_pid
wait_for "daemon A's assignment" 60 logged s5a "partitions assigned"
start_daemon s5b s5 g5 --idle-timeout 3600
b=$last_pid
wait_for "daemon B's assignment" 60 logged s5b "partitions assigned: tele"
wait_for "A and B to commit all" 120 reached s5 g5 "$N"
stop_daemon "$a" s5a
stop_daemon "$b" s5b
"$TELEMETRA" dump "$(db_url s5ref)" >"$tmp/s5ref.dump"
"$TELEMETRA" dump "$(db_url s5)" >"$tmp/s5.dump"
if cmp -s "$tmp/s5ref.dump" "$tmp/s5.dump"; then
	echo "ok   5: two daemons wrote exactly what one daemon wrote"
else
	fail "5: two daemons and one daemon differ:"; diff "$tmp/s5ref.dump" "$tmp/s5.dump" | head -20
fi

# 6. a stalled daemon ----------------------------------------------------------------------
step "6. a daemon stalled past its session loses its partitions and lets go"
new_db s6
start_daemon s6a s6 g6 --idle-timeout 3600
a=$last_pid
wait_for "A to commit all" 120 reached s6 g6 "$N"
kill -STOP "$a"
start_daemon s6b s6 g6 --idle-timeout 3600
b=$last_pid
# The coordinator waits for the stalled A until its session (6 s) expires.
wait_for "B to be given every partition" 60 logged s6b "assigned: telemetra.events.chat \[0 1 2 3\]"
kill -CONT "$a"
wait_for "A to learn it lost its partitions" 60 logged s6a "partitions lost: 8"
wait_for "B to commit all" 60 reached s6 g6 "$N"
stop_daemon "$b" s6b
stop_daemon "$a" s6a
first=$(grep -o "partitions \(revoked\|lost\)" "$tmp/s6a.log" | head -1)
[ "$first" = "partitions lost" ] || fail "6: A let go of its lost partitions as '$first', committing"
"$TELEMETRA" dump "$(db_url s6)" >"$tmp/s6.dump"
if cmp -s "$tmp/s5ref.dump" "$tmp/s6.dump"; then
	echo "ok   6: the stalled daemon and its successor wrote exactly what one daemon wrote"
else
	fail "6: differs from one daemon:"; diff "$tmp/s5ref.dump" "$tmp/s6.dump" | head -20
fi

# 7. a restart with other windowing ---------------------------------------------------
step "7. restart with other options: an old checkpoint, a refusal, --reset-state"
# Group g1 (scenario 1) committed all N records with the default windowing.
# A checkpoint from before fingerprints still loads, and gets one.
sql_in s1 "UPDATE core_state SET state = (state::jsonb - 'fingerprint')::text WHERE consumer_group = 'g1'" ||
	fail "7: cannot strip the fingerprints"
start_daemon s7old s1 g1
d=$last_pid
wait_for "s7old to load the old checkpoint" 60 logged s7old "has no fingerprint"
fingerprinted() {
	[ "$(sql_in s1 "SELECT count(*) FROM core_state WHERE consumer_group = 'g1' AND state NOT LIKE '%\"fingerprint\"%'")" = 0 ]
}
wait_for "s7old to record fingerprints" 60 fingerprinted
stop_daemon "$d" s7old
grep -q "error" "$tmp/s7old.log" && fail "7: an old checkpoint logged an error"
# A second start is a second runs row; it consumed nothing new.
got=$(sql_in s1 "SELECT count(*), count(finished_at), max(records) FILTER (WHERE id > (SELECT min(id) FROM runs)) FROM runs")
[ "$got" = "2|2|0" ] || fail "7: runs after a second start: '$got' (rows|finished|its records), want 2|2|0"
# Other windowing: refused with exit 2, naming both values and the ways out.
timeout 60 "$TELEMETRA" live --brokers "$BS" --postgres "$(db_url s1)" --group g1 \
	--offset-reset earliest --window 20 --slide 20 --threshold 4 -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 >"$tmp/s7refused.log" 2>&1
st=$?
[ "$st" = 2 ] || { fail "7: a restart with --window 20 --slide 20 exited $st, want 2"; tail -5 "$tmp/s7refused.log"; }
grep -q -e "--window 60 -> 20; --slide 10 -> 20" "$tmp/s7refused.log" ||
	{ fail "7: the refusal does not name the old and new values"; tail -3 "$tmp/s7refused.log"; }
grep -q -e "new --group" "$tmp/s7refused.log" && grep -q -e "add --reset-state" "$tmp/s7refused.log" ||
	fail "7: the refusal does not name the ways out"
grep -q -e "--threshold 3.0 -> 4.0" "$tmp/s7refused.log" || fail "7: the safe change is not logged"
[ "$(committed s1 g1)" = "$N" ] || fail "7: the refused restart committed something"
# Another detector: its history means something else, so refused as well.
timeout 60 "$TELEMETRA" live --brokers "$BS" --postgres "$(db_url s1)" --group g1 \
	--offset-reset earliest --detector seed -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 >"$tmp/s7detector.log" 2>&1
st=$?
[ "$st" = 2 ] || { fail "7: a restart with --detector seed exited $st, want 2"; tail -5 "$tmp/s7detector.log"; }
grep -q -e '--detector "pane" -> "seed"' "$tmp/s7detector.log" ||
	{ fail "7: the refusal does not name the detector change"; tail -3 "$tmp/s7detector.log"; }
# A state saved when the seed was the default has no "detector" in its
# fingerprint: it holds the seed's history, so the default (pane) refuses it.
sql_in s1 "UPDATE core_state SET state = jsonb_set(state::jsonb, '{fingerprint}',
	(state::jsonb -> 'fingerprint') - 'detector')::text WHERE consumer_group = 'g1'" ||
	fail "7: cannot strip the detector from the fingerprints"
timeout 60 "$TELEMETRA" live --brokers "$BS" --postgres "$(db_url s1)" --group g1 \
	--offset-reset earliest -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 >"$tmp/s7seedera.log" 2>&1
st=$?
[ "$st" = 2 ] || { fail "7: a seed-era state under the pane detector: exit $st, want 2"; tail -5 "$tmp/s7seedera.log"; }
grep -q -e '--detector "seed" -> "pane"' "$tmp/s7seedera.log" ||
	{ fail "7: a seed-era state is not named the seed's"; tail -3 "$tmp/s7seedera.log"; }
# --reset-state: resumes from the committed offsets with empty state; new
# events, later than all before, make rows of the new windowing.
"$TELEMETRA" gen -q --seed 7 --streams 3 --events 3000 --late 0 --start 2025-11-23T13:00:00Z -o "$tmp/later.jsonl" ||
	hard_error "gen failed"
M=$("$PRODUCE" "$BS" "$tmp/later.jsonl") || hard_error "producing into Kafka failed"
produced=$((produced + M))
late_before=$(sql_in s1 "SELECT count(*) FROM dead_letters WHERE reason = 'late'")
start_daemon s7 s1 g1 --window 20 --slide 20 --reset-state
d=$last_pid
wait_for "s7 to commit the $M new records" 120 reached s1 g1 $((N + M))
rows20() { [ "$(sql_in s1 "SELECT count(*) FROM chat_summary_minute WHERE window_end - window_start = interval '20 seconds'")" -gt 0 ]; }
wait_for "s7 to write rows of 20 s windows" 60 rows20
stop_daemon "$d" s7
logged s7 "reset-state: DISCARDING the saved state of group g1" || fail "7: --reset-state was not logged loudly"
late=$(sql_in s1 "SELECT count(*) FROM dead_letters WHERE reason = 'late'")
[ "$late" = "$late_before" ] || fail "7: $((late - late_before)) new late dead letters after --reset-state"
echo "ok   7: refused with exit 2, then --reset-state resumed with the new windowing"

# 8. a state that cannot be loaded ----------------------------------------------------
step "8. a saved state that cannot be loaded stops the daemon (exit 1)"
# The assignment handler refuses the partitions; the daemon must stop, not
# sit in the group holding partitions it never reads.
sql_in s2 "UPDATE core_state SET state = '{\"not\": \"a state\"}' WHERE consumer_group = 'g2' AND partition = 0" ||
	fail "8: cannot damage the state"
timeout 60 "$TELEMETRA" live --brokers "$BS" --postgres "$(db_url s2)" --group g2 \
	--offset-reset earliest -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
	>"$tmp/s8.log" 2>&1
st=$?
[ "$st" = 1 ] || { fail "8: a daemon with an unloadable state exited $st, want 1"; tail -5 "$tmp/s8.log"; }
logged s8 "cannot be loaded" || fail "8: the unloadable state was not named"
[ "$(committed s2 g2)" = "$N" ] || fail "8: the stopped daemon moved the offsets"
[ "$st" = 1 ] && echo "ok   8: stopped with exit 1"

# 9. a long capture path ----------------------------------------------------------------
step "9. a --capture path of 3 KB"
# The checkpoint's capture length was keyed on the path, past the ~2.7 KB
# of a btree row: every commit failed.
long=$tmp
while [ ${#long} -lt 3000 ]; do long=$long/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd; done
mkdir -p "$long" || hard_error "mkdir of a long path"
new_db s9
"$TELEMETRA" live --brokers "$BS" --postgres "$(db_url s9)" --group g9 --offset-reset earliest \
	--trigger 0.2 --max-batch 2000 --capture "$long/s9.capture" -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 >>"$tmp/s9.log" 2>&1 &
d=$!
pids="$pids $d"
wait_for "s9 to commit all $N records" 120 reached s9 g9 "$N"
stop_daemon "$d" s9
got=$(sql_in s9 "SELECT length(path) > 3000, bytes FROM capture_lengths WHERE consumer_group = 'g9'")
want="t|$(wc -c <"$long/s9.capture" | tr -d ' ')"
[ "$got" = "$want" ] && echo "ok   9: committed with a ${#long}-byte capture directory" ||
	fail "9: capture length row '$got', want '$want'"

# 10. a loss and a regain in one process -------------------------------------------
step "10. one daemon stalled past its session loses its partitions and gets them back"
# Alone in its group, the daemon's partitions go to nobody while it is
# stopped; resumed, librdkafka reports them lost, and the group gives them
# back to it.  Its state then comes from its checkpoint, as after a
# restart, and the capture must say exactly that: a replay of it equals
# PostgreSQL, and no offset is in it twice.  Events produced during the
# stall, later than all before, close the windows open at the stall.
new_db s10
start_daemon s10 s10 g10
d=$last_pid
wait_for "s10 to commit all $produced records" 120 reached s10 g10 "$produced"
kill -STOP "$d"
"$TELEMETRA" gen -q --seed 10 --streams 12 --events 4000 --late 0 --start 2025-11-23T14:00:00Z \
	-o "$tmp/stalled.jsonl" || { kill -CONT "$d"; hard_error "gen failed"; }
M10=$("$PRODUCE" "$BS" "$tmp/stalled.jsonl") || { kill -CONT "$d"; hard_error "producing into Kafka failed"; }
produced=$((produced + M10))
sleep 8 # the stall: past the 6 s session, so that the group lets the daemon go
kill -CONT "$d"
wait_for "s10 to learn it lost its partitions" 60 logged s10 "partitions lost: 8"
assigned10() { [ "$(grep -c "partitions assigned: telemetra.events.chat \[0 1 2 3\], telemetra.events.viewer \[0 1 2 3\]" "$tmp/s10.log")" -ge "$1" ]; }
wait_for "s10 to be given its 8 partitions again" 60 assigned10 2
wait_for "s10 to commit all $produced records" 120 reached s10 g10 "$produced"
stop_daemon "$d" s10
[ "$(grep -c "partitions lost" "$tmp/s10.log")" = 1 ] || fail "10: not exactly one loss logged"
[ "$(committed s10 g10)" = "$produced" ] || fail "10: committed $(committed s10 g10) of $produced"
# Again, with a batch in hand at the loss: started with --trigger 3600,
# the daemon commits nothing before its stop, so the records produced now
# are consumed and captured but not committed when the stall makes it
# lose them; it must drop them (capture included) and read them again.
"$TELEMETRA" gen -q --seed 12 --streams 12 --events 3000 --late 0 --start 2025-11-23T15:00:00Z \
	-o "$tmp/uncommitted.jsonl" || hard_error "gen failed"
start_daemon s10 s10 g10 --trigger 3600 --max-batch 1000000 --metrics 127.0.0.1:0
d=$last_pid
wait_for "s10 to be given its partitions at its second start" 60 assigned10 3
port=$(metrics_port s10)
M12=$("$PRODUCE" "$BS" "$tmp/uncommitted.jsonl") || hard_error "producing into Kafka failed"
wait_for "s10 to consume the $M12 new records" 60 consumed "$M12"
[ "$(committed s10 g10)" = "$produced" ] || fail "10: --trigger 3600 committed before the stall"
kill -STOP "$d"
sleep 8 # the stall, as above
kill -CONT "$d"
produced=$((produced + M12))
lost10() { [ "$(grep -c "partitions lost: 8" "$tmp/s10.log")" -ge 2 ]; }
wait_for "s10 to lose its partitions with a batch in hand" 60 lost10
wait_for "s10 to be given them again" 60 assigned10 4
wait_for "s10 to read the $M12 records again" 60 consumed $((2 * M12))
stop_daemon "$d" s10
[ "$(committed s10 g10)" = "$produced" ] || fail "10: committed $(committed s10 g10) of $produced at the stop"
# The runs row counts what this start committed: each record once,
# though the metrics counted the dropped batch's reads as well.
got=$(sql_in s10 "SELECT records FROM runs ORDER BY id DESC LIMIT 1")
[ "$got" = "$M12" ] && echo "ok   10: the runs row counts the $M12 records once" ||
	fail "10: the runs row of the second start counts $got records, want $M12"
logged s10 "capture .* cut back by" || fail "10: the capture was not cut back at the loss"
twice=$(grep -o '^{"topic":"[^"]*","partition":[0-9]*,"offset":[0-9]*' "$tmp/s10.capture" | sort | uniq -d | wc -l)
[ "$twice" = 0 ] && echo "ok   10: the capture holds each offset once" ||
	fail "10: $twice offsets are in the capture twice"
compare_with_capture s10 s10

# 11. a rebalance while the database is away -----------------------------------------
step "11. a rebalance while PostgreSQL is away leaves consumption paused"
# A, idle with everything committed, pauses when its probe finds the
# database gone.  A kcat consumer joins the group (a second daemon could
# not: it waits for the database before joining), so A keeps half its
# partitions.  Records produced then must wait in Kafka, not pile up in
# A's batch for as long as the outage lasts: A's first commit after it
# holds none of them.  When kcat leaves, A takes back the half it gave
# away while paused, and must fetch it: librdkafka keeps a partition's
# pause through a rebalance, and resuming only the assignment of the
# moment left that half paused for good (A stalled with "lag 0").
new_db s11
start_daemon s11a s11 g11 --idle-timeout 3600 --metrics 127.0.0.1:0
a=$last_pid
wait_for "A to commit all $produced records" 120 reached s11 g11 "$produced"
pg_harness_stop_server || hard_error "cannot stop PostgreSQL"
wait_for "A's probe to find the database away" 30 logged s11a "consumption paused"
kcat -b "$BS" -G g11 -q -X partition.assignment.strategy=range -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 -X auto.offset.reset=latest \
	telemetra.events.chat telemetra.events.viewer >"$tmp/s11.kcat" 2>"$tmp/s11kcat.log" &
k=$!
pids="$pids $k"
assigned11() { [ "$(grep -c "partitions assigned" "$tmp/s11a.log")" -ge 2 ]; }
wait_for "A's assignment after kcat joined" 60 assigned11
"$TELEMETRA" gen -q --seed 13 --streams 12 --events 2000 --late 0 --start 2025-11-23T16:00:00Z \
	-o "$tmp/outage.jsonl" || hard_error "gen failed"
M11=$("$PRODUCE" "$BS" "$tmp/outage.jsonl") || hard_error "producing into Kafka failed"
produced=$((produced + M11))
# kcat's half arriving is the sign that a fetching A has had its half.
kcat11() { [ -s "$tmp/s11.kcat" ]; }
wait_for "kcat to receive its share of the $M11 new records" 30 kcat11
# Paused, A fetches nothing, so its lag must come from the brokers: it
# was 0 before, and stood still at 0 when only fetches told it.
port=$(metrics_port s11a)
lag11() {
	n=$(metric_sum telemetra_consumer_lag_records)
	[ "${n:-0}" -gt 0 ]
}
wait_for "A's lag to show the records waiting in its paused partitions" 30 lag11
pg_harness_start_server || hard_error "cannot start PostgreSQL again"
wait_for "A to commit after the outage" 60 logged s11a "is back after"
recovered=$(sed -n 's/.*is back after .*: batch of \([0-9]*\) records committed.*/\1/p' "$tmp/s11a.log" | head -1)
[ "$recovered" = 0 ] && echo "ok   11: A consumed nothing while the database was away" ||
	fail "11: A's first commit after the outage holds '$recovered' records, want 0"
kill -TERM "$k"
wait "$k"
wait_for "A to commit all $produced records once kcat left" 120 reached s11 g11 "$produced"
stop_daemon "$a" s11a
# A had the half back with the state it committed at the close (nobody
# committed it meanwhile): a replay of its capture must take the group
# back as it was, not start it empty (41 rows short before).
compare_with_capture s11a s11

# 12. a rebalance while the database is away, with a batch in hand ------------------
step "12. a revocation that cannot commit is a loss"
# A commits everything, then restarts with --trigger 3600, so that the
# records produced next are consumed and captured but not committed.
# PostgreSQL goes away and a kcat consumer joins: A's revocation cannot
# commit its batch.  Keeping the half it gets back as it was in memory,
# and letting the other half go with its uncommitted state, made the
# capture hold that half's records twice once A had it back: read before
# the rebalance, and read again from the checkpoint after.  A must treat
# the revocation as a loss (drop the batch, cut the capture back, resume
# everything from the checkpoint when the database is back).
new_db s12
start_daemon s12a s12 g12
a=$last_pid
wait_for "A to commit all $produced records" 120 reached s12 g12 "$produced"
stop_daemon "$a" s12a
start_daemon s12a s12 g12 --trigger 3600 --max-batch 1000000 --metrics 127.0.0.1:0
a=$last_pid
assigned12() { [ "$(grep -c "partitions assigned" "$tmp/s12a.log")" -ge "$1" ]; }
wait_for "A to be given its partitions at its second start" 60 assigned12 2
port=$(metrics_port s12a)
"$TELEMETRA" gen -q --seed 14 --streams 12 --events 3000 --late 0 --start 2025-11-23T17:00:00Z \
	-o "$tmp/inhand.jsonl" || hard_error "gen failed"
M12=$("$PRODUCE" "$BS" "$tmp/inhand.jsonl") || hard_error "producing into Kafka failed"
wait_for "A to consume the $M12 new records" 60 consumed "$M12"
[ "$(committed s12 g12)" = "$produced" ] || fail "12: --trigger 3600 committed before the rebalance"
produced=$((produced + M12))
# (no probe while a batch is in hand: the revocation's commit finds it away)
pg_harness_stop_server || hard_error "cannot stop PostgreSQL"
kcat -b "$BS" -G g12 -q -X partition.assignment.strategy=range -X session.timeout.ms=6000 \
	-X heartbeat.interval.ms=500 -X auto.offset.reset=latest \
	telemetra.events.chat telemetra.events.viewer >"$tmp/s12.kcat" 2>"$tmp/s12kcat.log" &
k=$!
pids="$pids $k"
wait_for "A to find its revocation cannot be committed" 60 logged s12a "treated as a loss"
pg_harness_start_server || hard_error "cannot start PostgreSQL again"
wait_for "A's assignment after kcat joined" 60 assigned12 3
kill -TERM "$k"
wait "$k"
wait_for "A to be given every partition once kcat left" 60 assigned12 4
wait_for "A to read the $M12 records again" 60 consumed $((2 * M12))
stop_daemon "$a" s12a
[ "$(committed s12 g12)" = "$produced" ] || fail "12: committed $(committed s12 g12) of $produced at the stop"
got=$(sql_in s12 "SELECT records FROM runs ORDER BY id DESC LIMIT 1")
[ "$got" = "$M12" ] && echo "ok   12: the runs row counts the $M12 records once" ||
	fail "12: the runs row of the second start counts $got records, want $M12"
twice=$(grep -o '^{"topic":"[^"]*","partition":[0-9]*,"offset":[0-9]*' "$tmp/s12a.capture" | sort | uniq -d | wc -l)
[ "$twice" = 0 ] && echo "ok   12: the capture holds each offset once" ||
	fail "12: $twice offsets are in the capture twice"
compare_with_capture s12a s12

[ "$failures" -eq 0 ] || { echo "$failures failures; daemon logs:"; tail -n 15 "$tmp"/*.log; exit 1; }
echo "all live scenarios passed"
