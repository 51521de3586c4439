#!/bin/sh
# telemetra tune: grid parsing (lists, ranges, products, files) and bad
# grids (exit 2 with a hint); each configuration's counts equal those of a
# replay with the same options; scoring against the labels of a generated
# log; --best is a config file replay accepts; the results do not depend on
# -j; and no leak under valgrind.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
T=$TELEMETRA
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"
q() { sqlite3 "$@"; }

# same WHAT GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

spike="$fx/spike.jsonl"

# --- grid parsing -------------------------------------------------------------
expect 0 "Usage: telemetra tune" $T tune --help
expect 0 "precision = matching episodes /" $T tune --help
expect 0 "default tune.db" $T tune --help
$T tune --help | grep -q -e "--append" && fail "tune --help mentions --append, which tune rejects"

$T tune -q -o "$tmp/r.db" --grid threshold=2:3:0.5 "$spike" >/dev/null || fail "range run failed"
same "range 2:3:0.5" "$(q "$tmp/r.db" 'select threshold from tuning_results order by id' | tr '\n' ' ')" \
	"2.0 2.5 3.0 "
$T tune -q -o "$tmp/r.db" --grid threshold=0:1:0.1 "$spike" >/dev/null || fail "range run failed"
same "range 0:1:0.1 is exact decimal" \
	"$(q "$tmp/r.db" "select count(*), sum(threshold = 0.3), max(threshold) from tuning_results")" "11|1|1.0"
$T tune -q -o "$tmp/p.db" --grid window=10,20 --grid 'threshold=2, 3' --grid merge-moments=false,true \
	"$spike" >/dev/null || fail "product run failed"
same "product: first --grid slowest" \
	"$(q "$tmp/p.db" "select window || '/' || threshold || '/' || merge_moments from tuning_results order by id" | tr '\n' ' ')" \
	"10/2.0/0 10/2.0/1 10/3.0/0 10/3.0/1 20/2.0/0 20/2.0/1 20/3.0/0 20/3.0/1 "
same "config column holds the options" \
	"$(q "$tmp/p.db" "select json_extract(config, '\$.window'), json_extract(config, '\$.threshold'), json_extract(config, '\$.\"merge-moments\"') from tuning_results where id = 6")" \
	"20|2.0|1"
same "base options apply to every configuration" \
	"$($T tune -q -o "$tmp/b.db" --history 4 --grid threshold=2,3 "$spike" >/dev/null && q "$tmp/b.db" 'select group_concat(history) from tuning_results')" "4,4"
printf '{"window": [10, 20], "threshold": "2:3:1", "merge-moments": [false, true]}\n' >"$tmp/grid.json"
$T tune -q -o "$tmp/f.db" --grid-file "$tmp/grid.json" "$spike" >/dev/null || fail "grid file run failed"
cols='window, threshold, merge_moments, windows, moments'
same "--grid-file gives the --grid product" "$(q "$tmp/f.db" "select $cols from tuning_results order by id")" \
	"$(q "$tmp/p.db" "select $cols from tuning_results order by id")"
same "one configuration without a grid" \
	"$($T tune -q -o "$tmp/one.db" "$spike" >/dev/null && q "$tmp/one.db" 'select count(*) from tuning_results')" 1

# bad grids: exit 2, saying what is wrong and what is accepted
expect 2 'not an option the grid can vary; it can vary window, slide' $T tune --grid windw=60 "$spike"
expect 2 '"output" is not an option the grid can vary' $T tune --grid output=x.db "$spike"
expect 2 "bad range '2:3'; a range is START:STOP:STEP" $T tune --grid threshold=2:3 "$spike"
expect 2 "bad range '3:2:1'.*START <= STOP and STEP > 0" $T tune --grid threshold=3:2:1 "$spike"
expect 2 "bad range '1:2:0'" $T tune --grid threshold=1:2:0 "$spike"
expect 2 "bad range 'a:b:c'" $T tune --grid threshold=a:b:c "$spike"
expect 2 "empty value in ''; VALUES is a comma list" $T tune --grid threshold= "$spike"
expect 2 "empty value in '1,,2'" $T tune --grid threshold=1,,2 "$spike"
expect 2 "expected NAME=VALUES" $T tune --grid threshold "$spike"
expect 2 "grid window: expected a positive number of seconds.*'abc'" $T tune --grid window=abc "$spike"
expect 2 "grid merge-moments: expected true or false" $T tune --grid merge-moments=maybe "$spike"
expect 2 "configuration 2 of 2 (window=65): --window (65 s) must be a multiple of --slide" \
	$T tune --grid window=60,65 "$spike"
expect 2 '"threshold" is in the grid twice' $T tune --grid threshold=2 --grid threshold=3 "$spike"
expect 2 "more than 100000 configurations" $T tune --grid threshold=0:999:1 --grid history=1:200:1 "$spike"
printf '{"threshold": []}' >"$tmp/empty.json"
expect 2 "\"threshold\": no values" $T tune --grid-file "$tmp/empty.json" "$spike"
printf '{"threshold": [2,}' >"$tmp/broken.json"
expect 2 "grid-file $tmp/broken.json:1:" $T tune --grid-file "$tmp/broken.json" "$spike"
expect 2 "needs --labels" $T tune --best "$tmp/best.json" "$spike"
expect 2 "no input files" $T tune --grid threshold=2
expect 2 "cannot open labels file" $T tune --labels "$tmp/none.jsonl" "$spike"
printf '{"stream_id":"s","start":"yesterday","end":"2025-01-01T00:00:00Z"}\n' >"$tmp/bad-labels.jsonl"
expect 2 "bad-labels.jsonl:1: bad label: \"start\" must be an RFC 3339 time" $T tune --labels "$tmp/bad-labels.jsonl" "$spike"
expect 1 "cannot open $tmp/nope.jsonl" $T tune -o "$tmp/x.db" "$spike" "$tmp/nope.jsonl"
[ -e "$tmp/x.db" ] && fail "a failed run left $tmp/x.db behind"

# --- each configuration equals a replay with the same options -------------------
# Windows, thresholds, merging and two lexicons (sentiment drops on, so the
# lexicon changes the moments): 16 configurations, 4 windowing passes.
$T gen -q --seed 3 --streams 4 --duration 1200 --spikes 3 -o "$tmp/small.jsonl" || exit 99
pos="$fx/lexicon_positive.txt"
negs="$fx/lexicon_negative.txt $top_srcdir/src/lexicon/negative.txt"
$T tune -q -o "$tmp/eq.db" --sentiment-drop 1.5 --lexicon-positive "$pos" \
	--grid "lexicon-negative=$(echo $negs | tr ' ' ',')" --grid window=30,60 --grid threshold=2.5,3.5 \
	--grid merge-moments=false,true "$tmp/small.jsonl" >/dev/null || fail "tune over small.jsonl failed"
id=0 checked=0 moments_seen=
for neg in $negs; do
	for w in 30 60; do
		for th in 2.5 3.5; do
			for m in --no-merge-moments --merge-moments; do
				id=$((id + 1))
				$T replay -q -o "$tmp/rp.db" --sentiment-drop 1.5 --lexicon-positive "$pos" \
					--lexicon-negative "$neg" --window "$w" --threshold "$th" $m "$tmp/small.jsonl" ||
					fail "replay $id failed"
				want=$(q "$tmp/rp.db" "select (select count(*) from chat_summary_minute), (select count(*) from moments), (select late from runs), (select dead_letters from runs)")
				got=$(q "$tmp/eq.db" "select windows, moments, late, dead_letters from tuning_results where id = $id")
				[ "$got" = "$want" ] || fail "configuration $id (window $w, threshold $th, $m, $(basename "$neg")): tune $got, replay $want"
				checked=$((checked + 1))
				moments_seen="$moments_seen ${got#*|}"
			done
		done
	done
done
same "tune rows equal replays ($checked configurations)" "$checked" 16
distinct=$(q "$tmp/eq.db" "select count(distinct moments) from tuning_results")
[ "$distinct" -ge 4 ] || fail "the 16 configurations gave only $distinct distinct moment counts"
same "windowing passes shared (4 for 16 configurations)" \
	"$(q "$tmp/eq.db" "select count(distinct windowing_pass) from tuning_results")" 4
lex_differs=$(q "$tmp/eq.db" "select count(*) from tuning_results a join tuning_results b on b.id = a.id + 8 where a.moments != b.moments")
[ "$lex_differs" -gt 0 ] || fail "the lexicon changed no configuration's moments"

# captures (lanes, control records, --no-final-flush) and late events
for args in "--no-final-flush capture_a.jsonl" "controls.jsonl" "late.jsonl" "malformed.jsonl"; do
	# shellcheck disable=SC2086
	(cd "$fx" && $T replay -q -o "$tmp/rc.db" --window 20 --threshold 1 $args &&
		$T tune -q -o "$tmp/tc.db" --grid window=20 --grid threshold=1 $args >/dev/null) ||
		fail "$args: a run failed"
	same "capture/late: $args" \
		"$(q "$tmp/tc.db" "select windows, moments, late, dead_letters from tuning_results")" \
		"$(q "$tmp/rc.db" "select windows, moments, late, dead_letters from runs")"
done

# With -j 2, tune windows the records of its first windowing key as it
# stores them, while the reader thread decodes (src/tune/run.h, the early
# pass), and uses that pass only if the store's feed turns out the same (no
# lane named in a file is opened from the start: captures fall back).  Its
# rows must equal those of -j 1 (read alone, windowed after) and of a grid
# where the same key comes later (no early pass), on bare events, captures
# and controls.
rows_of() { q "$1" "select threshold, windows, anomalous_windows, moments, accepted, late, dead_letters, moments_per_stream from tuning_results where window = 20 order by threshold"; }
for input in capture_a.jsonl controls.jsonl late.jsonl malformed.jsonl "$tmp/small.jsonl"; do
	(cd "$fx" && $T tune -q -j 2 -o "$tmp/e2.db" --grid window=20 --grid threshold=1,2,3 "$input" >/dev/null &&
		$T tune -q -j 1 -o "$tmp/e1.db" --grid window=20 --grid threshold=1,2,3 "$input" >/dev/null &&
		$T tune -q -j 2 -o "$tmp/e3.db" --grid window=30,40,20 --grid threshold=1,2,3 "$input" >/dev/null) ||
		fail "early pass: $input: a run failed"
	same "early pass: $(basename "$input"): -j 2 equals -j 1" "$(rows_of "$tmp/e2.db")" "$(rows_of "$tmp/e1.db")"
	same "early pass: $(basename "$input"): one windowing equals several" "$(rows_of "$tmp/e2.db")" "$(rows_of "$tmp/e3.db")"
	rm -f "$tmp/e1.db" "$tmp/e2.db" "$tmp/e3.db"
done

# The one case where the early pass must be thrown away: a lane named in the
# file without a lane_open record is open from the start (SPEC §7), so it
# holds back its group's watermark before its first record.  Here partition
# 0's viewer lane speaks once, at the end, 30 s into a 300 s chat: replay
# takes that reading on time; an engine that opened the lane only when it
# spoke would call it late.
awk 'BEGIN {
	t0 = 1763899200000
	for (i = 0; i < 300; i++)
		printf "{\"topic\":\"chat\",\"partition\":0,\"offset\":%d,\"timestamp_ms\":%.0f,\"key\":\"a\",\"value\":\"{\\\"timestamp\\\":%.0f,\\\"stream_id\\\":\\\"a\\\",\\\"user_id\\\":\\\"u%d\\\",\\\"message\\\":\\\"hype\\\"}\"}\n", i, t0 + i * 1000, t0 + i * 1000, i % 7
	printf "{\"topic\":\"viewer\",\"partition\":0,\"offset\":0,\"timestamp_ms\":%.0f,\"key\":\"a\",\"value\":\"{\\\"timestamp\\\":%.0f,\\\"stream_id\\\":\\\"a\\\",\\\"viewer_count\\\":50}\"}\n", t0 + 30000, t0 + 30000
}' >"$tmp/held.jsonl"
($T replay -q -o "$tmp/rh.db" --window 20 --threshold 1 "$tmp/held.jsonl" &&
	$T tune -q -j 2 -o "$tmp/e2.db" --grid window=20 --grid threshold=1,2 "$tmp/held.jsonl" >/dev/null &&
	$T tune -q -j 1 -o "$tmp/e1.db" --grid window=20 --grid threshold=1,2 "$tmp/held.jsonl" >/dev/null) ||
	fail "early pass: held-back lane: a run failed"
same "held-back lane: replay takes the late-named lane's reading on time" \
	"$(q "$tmp/rh.db" "select late, dead_letters from runs")" "0|0"
same "early pass: held-back lane: -j 2 equals -j 1" "$(rows_of "$tmp/e2.db")" "$(rows_of "$tmp/e1.db")"
same "early pass: held-back lane: tune equals replay" \
	"$(q "$tmp/e2.db" "select windows, late from tuning_results where threshold = 1")" \
	"$(q "$tmp/rh.db" "select (select count(*) from chat_summary_minute), late from runs")"
rm -f "$tmp/e1.db" "$tmp/e2.db" "$tmp/rh.db"

# A stream index that windowing lets go and hands to a new stream: A chats
# for 20 minutes and falls silent; B starts 50 minutes in, C 8 minutes after
# B (once A's windows have closed and A was released), with a spike.  C's
# moment is C's, and C's stream-hours are C's, as in replay.
awk 'function emit(s, t, n,   i) {
	for (i = 0; i < n; i++)
		printf "{\"timestamp\":%.0f,\"stream_id\":\"%s\",\"user_id\":\"u%d\",\"message\":\"hype\"}\n", t + i * int(10000 / n), s, (i * 7 + t / 1000) % 50
}
BEGIN {
	t0 = 1763899200000
	for (p = 0; p < 120; p++) emit("A", t0 + p * 10000, p == 90 ? 200 : 20)
	for (p = 0; p < 120; p++) {
		emit("B", t0 + 3000000 + p * 10000, 20)
		if (p >= 50) emit("C", t0 + 3000000 + p * 10000 + 5000, p == 100 ? 200 : 20)
	}
}' >"$tmp/reuse.jsonl"
printf '{"stream_id":"C","start":"2025-11-23T13:15:00Z","end":"2025-11-23T13:16:00Z"}\n' >"$tmp/reuseL.jsonl"
# (--metric chatters: these lines carry no emote, which the default counts)
$T replay -q -o "$tmp/reuse-r.db" --metric chatters "$tmp/reuse.jsonl" &&
	$T tune -q -o "$tmp/reuse-t.db" --metric chatters --labels "$tmp/reuseL.jsonl" \
		"$tmp/reuse.jsonl" >/dev/null ||
	fail "replay or tune of reuse.jsonl failed"
[ "$(q "$tmp/reuse-r.db" "select count(*) from moments where stream_id = 'C'")" -gt 0 ] ||
	fail "reuse.jsonl: replay found no moment of C, so the comparison below shows nothing"
same "a reused stream index: moments per stream as in replay" \
	"$(q "$tmp/reuse-t.db" "select moments_per_stream from tuning_results")" \
	"$(q "$tmp/reuse-r.db" "select '{' || group_concat('\"' || stream_id || '\":' || n, ',') || '}' from (select stream_id, count(*) as n from moments group by stream_id order by stream_id)")"
same "a reused stream index: stream-hours as in replay" \
	"$(q "$tmp/reuse-t.db" "select printf('%.6f', stream_hours) from tuning_results")" \
	"$(q "$tmp/reuse-r.db" "select printf('%.6f', sum(s) / 3600.0) from (select (julianday(max(window_end)) - julianday(min(window_start))) * 86400 as s from chat_summary_minute group by stream_id)")"

# A group that leaves (its last lane closes) and comes back starts afresh in
# replay, detectors included: 100 panes of chat on partition 0, the lane
# closed and reopened, then a burst 10 panes later, too early for a fresh
# baseline.  tune must not judge it against the history from before.
# (--metric chatters: the lines carry no emote, so under the default metric
# no history could fire and the comparison would show nothing.)
awk 'function ev(t, u,   v) {
	v = sprintf("{\\\"timestamp\\\":%.0f,\\\"stream_id\\\":\\\"S\\\",\\\"user_id\\\":\\\"u%d\\\",\\\"message\\\":\\\"hype\\\"}", t, u)
	printf "{\"topic\":\"telemetra.events.chat\",\"partition\":0,\"offset\":%d,\"timestamp_ms\":0,\"key\":\"S\",\"value\":\"%s\"}\n", off++, v
}
function pane(t, n,   i) { for (i = 0; i < n; i++) ev(t + i * int(10000 / n), (i * 7 + t / 1000) % 60) }
BEGIN {
	t0 = 1763899200000
	lane = "{\"control\":\"%s\",\"topic\":\"telemetra.events.chat\",\"partition\":0}\n"
	printf lane, "lane_open"
	for (p = 0; p < 100; p++) pane(t0 + p * 10000, 20)
	printf lane, "lane_close"
	printf lane, "lane_open"
	for (p = 100; p < 140; p++) pane(t0 + p * 10000, p == 110 ? 60 : 20)
}' >"$tmp/rejoin.jsonl"
$T replay -q -o "$tmp/rejoin-r.db" --metric chatters --threshold 1 "$tmp/rejoin.jsonl" &&
	$T tune -q -o "$tmp/rejoin-t.db" --metric chatters --grid threshold=1,3 "$tmp/rejoin.jsonl" >/dev/null ||
	fail "replay or tune of rejoin.jsonl failed"
same "a group that leaves and comes back: windows, anomalies and moments as in replay" \
	"$(q "$tmp/rejoin-t.db" "select windows || '/' || anomalous_windows || '/' || moments from tuning_results where id = 1")" \
	"$(q "$tmp/rejoin-r.db" "select (select count(*) from chat_summary_minute) || '/' || (select count(*) from chat_summary_minute where is_anomaly) || '/' || (select count(*) from moments)")"

# --- a shared judging equals each configuration alone ----------------------------
# Configurations that differ only in thresholds and merging share one judging
# of the rows (src/tune/run.c): the scores are computed once, then each
# decides under its own thresholds.  A configuration alone judges and decides
# each row in one call, as the engine does; every figure of every row, moments
# per stream included, must be the same both ways, for both detectors (and
# viewer surges and sentiment drops, whose windows without a metric end runs).
$T gen -q --seed 5 --streams 4 --duration 1800 --spikes 6 --labels "$tmp/shareL.jsonl" \
	-o "$tmp/share.jsonl" || exit 99
share="--viewer-surge 2 --sentiment-drop 1.5 --labels $tmp/shareL.jsonl"
cols="windows, anomalous_windows, moments, moments_per_stream, episodes, true_positives,
	false_positives, false_negatives, precision, recall, f1, mean_delay_s, median_delay_s"
for det in pane seed; do
	# shellcheck disable=SC2086
	$T tune -q -o "$tmp/shared.db" --detector $det $share --grid threshold=1.5,2.5,4 \
		--grid merge-moments=false,true --grid viewer-surge=1.5,3 "$tmp/share.jsonl" >/dev/null ||
		fail "shared $det sweep failed"
	id=0 differ=0
	for th in 1.5 2.5 4; do
		for m in false true; do
			for vs in 1.5 3; do
				id=$((id + 1))
				# shellcheck disable=SC2086
				$T tune -q -o "$tmp/alone.db" --detector $det $share --threshold $th \
					--grid merge-moments=$m --viewer-surge $vs "$tmp/share.jsonl" >/dev/null ||
					fail "$det configuration $id alone failed"
				got=$(q "$tmp/shared.db" "select $cols from tuning_results where id = $id")
				want=$(q "$tmp/alone.db" "select $cols from tuning_results")
				[ "$got" = "$want" ] || { differ=$((differ + 1)); fail "$det configuration $id (threshold $th, merge $m, viewer-surge $vs): shared $got, alone $want"; }
			done
		done
	done
	[ "$differ" -eq 0 ] && ok "$det: a shared judging gives each of 12 configurations its own results"
	same "$det: the thresholds change the moments" \
		"$(q "$tmp/shared.db" "select count(distinct moments_per_stream) > 6 from tuning_results")" 1
done

# --- labels -------------------------------------------------------------------
$T gen -q --seed 7 --streams 10 --duration 3600 --spikes 12 --labels "$tmp/L.jsonl" \
	-o "$tmp/spikes.jsonl" || exit 99
$T tune -q -o "$tmp/d.db" --labels "$tmp/L.jsonl" "$tmp/spikes.jsonl" >"$tmp/d.out" || fail "default tune failed"
recall=$(q "$tmp/d.db" "select recall from tuning_results")
if awk "BEGIN { exit !($recall >= 0.75) }"; then
	ok "the default configuration finds $(q "$tmp/d.db" "select true_positives || ' of ' || labels from tuning_results") injected spikes (recall $recall)"
else
	fail "default recall $recall < 0.75"
fi
same "TP + FN = labels" "$(q "$tmp/d.db" "select true_positives + false_negatives, labels from tuning_results")" "12|12"

grid="--grid threshold=2:8:1 --grid merge-moments=false,true --grid window=30,60"
# shellcheck disable=SC2086
$T tune -q -j 1 -o "$tmp/j1.db" --labels "$tmp/L.jsonl" $grid "$tmp/spikes.jsonl" >"$tmp/j1.out" &&
	$T tune -q -j 4 -o "$tmp/j4.db" --labels "$tmp/L.jsonl" --best "$tmp/best.json" $grid \
		"$tmp/spikes.jsonl" >"$tmp/j4.out" || fail "labelled grid runs failed"
results='select id, config, windows, anomalous_windows, moments, accepted, late, dead_letters,
	moments_per_stream, labels, true_positives, false_positives, false_negatives, precision,
	recall, f1, mean_delay_s, windowing_pass from tuning_results order by id'
q "$tmp/j1.db" "$results" >"$tmp/j1.rows"
q "$tmp/j4.db" "$results" >"$tmp/j4.rows"
if cmp -s "$tmp/j1.rows" "$tmp/j4.rows" && cmp -s "$tmp/j1.out" "$tmp/j4.out"; then
	ok "-j 1 and -j 4 give the same $(wc -l <"$tmp/j1.rows") rows and table"
else
	fail "-j 1 and -j 4 differ"; diff "$tmp/j1.rows" "$tmp/j4.rows" | head -5
fi

# the table: best first (F1 descending), and the winner is --best
f1col=$(head -1 "$tmp/j4.out" | tr -s ' ' '\n' | grep -v '^$' | grep -n '^f1$' | cut -d: -f1)
sorted=$(awk -v c="$f1col" 'NR > 1 { print $c }' "$tmp/j4.out")
same "table sorted by F1" "$sorted" "$(echo "$sorted" | sort -r -g)"
best_id=$(awk 'NR == 2 { print $1 }' "$tmp/j4.out")
same "the table's first row is the best by F1, then fewer false alarms, then less delay" "$best_id" \
	"$(q "$tmp/j4.db" "select id from tuning_results order by f1 desc, false_positives, median_delay_s is null, median_delay_s, id limit 1")"
if $T replay -q -o "$tmp/best.db" --config "$tmp/best.json" "$tmp/spikes.jsonl"; then
	same "replay --config BEST reproduces the best row" \
		"$(q "$tmp/best.db" "select (select count(*) from chat_summary_minute), (select count(*) from moments)")" \
		"$(q "$tmp/j4.db" "select windows, moments from tuning_results where id = $best_id")"
else
	fail "replay does not accept --best's file"; cat "$tmp/best.json"
fi
same "runs records the tune run" "$(q "$tmp/j4.db" "select command, json_extract(inputs, '\$[0].bytes') from runs")" \
	"tune|$(wc -c <"$tmp/spikes.jsonl" | tr -d ' ')"

# --- episodes, objectives, edges, --best - ------------------------------------------
# Hand-made chat (tests/tune-chat.py): 1 message/s, exactly 10 per 10 s pane, so
# with the seed detector, --window 20 --history 5 (the floor 1/W = 0.05 msg/s)
# and no merging (what these cases test is scoring, not detection), z is easy
# to derive:
#   split  +40 messages in pane 30, +200 in pane 32: windows 12:04:50 (z 40) and
#          12:05:10 (z 9.4) are anomalous, 12:05:00 between them is not (z 2):
#          two moments, merged or not, whose windows touch: ONE episode;
#   big    +40 in pane 30: one window, z 40;  small  +6 in pane 30: one window, z 6.
# Labels: s0 (split) 12:05:00-12:05:30, s1 (big) and s2 (small) 12:05:00-12:05:10;
# s3 (small) has none: a false alarm at thresholds below 6.
if command -v python3 >/dev/null; then
	py="$top_srcdir/tests/tune-chat.py"
	python3 "$py" "$tmp/split.jsonl" s0:split && python3 "$py" "$tmp/mix.jsonl" s0:split s1:big s2:small s3:small || exit 99
	lab() { printf '{"stream_id":"%s","start":"2025-11-23T12:05:00Z","end":"2025-11-23T12:05:%s","kind":"hype"}\n' "$1" "$2"; }
	lab s0 30Z >"$tmp/splitL.jsonl"
	{ lab s0 30Z; lab s1 10Z; lab s2 10Z; } >"$tmp/mixL.jsonl"
	hand="--detector seed --no-merge-moments --window 20 --history 5"
	# shellcheck disable=SC2086
	$T tune -q -o "$tmp/ep.db" $hand --labels "$tmp/splitL.jsonl" --grid merge-moments=false,true \
		"$tmp/split.jsonl" >/dev/null || fail "tune over the split burst failed"
	same "a burst split in two moments is one episode, merged or not: precision 1" \
		"$(q "$tmp/ep.db" "select group_concat(moments || '/' || episodes || '/' || true_positives || '/' || false_positives || '/' || precision || '/' || median_delay_s, ' ') from tuning_results")" \
		"2/1/1/0/1.0/10.0 2/1/1/0/1.0/10.0"
	# shellcheck disable=SC2086
	$T replay -q -o "$tmp/mix3.db" $hand "$tmp/mix.jsonl" || fail "replay of mix failed"
	hours=$(q "$tmp/mix3.db" "select sum(s) / 3600.0 from (select (julianday(max(window_end)) - julianday(min(window_start))) * 86400 as s from chat_summary_minute group by stream_id)")
	# shellcheck disable=SC2086
	$T tune -o "$tmp/mix.db" $hand --labels "$tmp/mixL.jsonl" --grid threshold=3,10,20,50 \
		"$tmp/mix.jsonl" >"$tmp/mix.out" 2>"$tmp/mix.err" || fail "tune over mix failed"
	same "mix at threshold 3: 4 episodes, 1 false; stream-hours from the windows" \
		"$(q "$tmp/mix.db" "select episodes || '/' || false_positives || '/' || printf('%.6f', stream_hours) || '/' || printf('%.4f', false_per_stream_hour) from tuning_results where threshold = 3")" \
		"4/1/$(printf '%.6f' "$hours")/$(awk "BEGIN { printf \"%.4f\", 1 / $hours }")"
	same "f1: threshold 3 wins (F1 0.857 against 0.8)" "$(awk 'NR == 2 { print $2 }' "$tmp/mix.out")" 3
	if grep -q 'warning: the best threshold, 3, is the lowest value of its grid (3 to 50)' "$tmp/mix.err"; then
		ok "a winner on the edge of its grid is warned about"
	else
		fail "no edge-of-grid warning: $(cat "$tmp/mix.err")"
	fi
	same "one warning line" "$(grep -c warning "$tmp/mix.err")" 1
	# shellcheck disable=SC2086
	$T tune -q -o "$tmp/mixp.db" $hand --labels "$tmp/mixL.jsonl" --grid threshold=3,10,20,50 \
		--objective precision@recall=0.6 --best - "$tmp/mix.jsonl" >"$tmp/best.out" 2>"$tmp/best.err" ||
		fail "tune --objective precision@recall=0.6 --best - failed"
	if python3 -m json.tool "$tmp/best.out" >/dev/null 2>&1; then
		ok "--best - writes one JSON object and nothing else to stdout"
	else
		fail "--best - stdout is not only JSON: $(head -3 "$tmp/best.out")"
	fi
	same "precision@recall=0.6: threshold 10 wins (precision 1, recall 0.667)" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["threshold"])' "$tmp/best.out")" 10.0
	grep -q '^ *2  *10 ' "$tmp/best.err" || fail "--best -: the table is not on stderr"
	grep -q warning "$tmp/best.err" && fail "an interior winner (10 of 3..50) was warned about: $(grep warning "$tmp/best.err")"
	# shellcheck disable=SC2086
	$T tune -q -o "$tmp/mixf2.db" $hand --labels "$tmp/mixL.jsonl" --grid threshold=10,3 \
		--objective f2 --best "$tmp/f2.json" "$tmp/mix.jsonl" >/dev/null 2>&1 || fail "tune --objective f2 failed"
	same "f2: threshold 3 wins" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["threshold"])' "$tmp/f2.json")" 3.0
	# shellcheck disable=SC2086
	expect 1 "no configuration reaches recall 1 .*none qualifies" $T tune -q -o "$tmp/none.db" $hand \
		--labels "$tmp/mixL.jsonl" --grid threshold=10,20 --objective precision@recall=1 --best "$tmp/none.json" "$tmp/mix.jsonl"
	[ -e "$tmp/none.json" ] && fail "--best wrote a file although no configuration qualifies"
	expect 2 "expected f1, f2 or precision@recall=R" $T tune --labels "$tmp/mixL.jsonl" --objective f3 "$tmp/mix.jsonl"
	expect 2 "R must be a number in (0, 1]" $T tune --labels "$tmp/mixL.jsonl" --objective precision@recall=0 "$tmp/mix.jsonl"
	expect 2 "--objective needs --labels" $T tune --objective f2 "$tmp/mix.jsonl"
else
	echo "SKIP: python3 is not installed: episode and objective checks skipped"
fi

# --- where results go is checked before the grid runs ---------------------------
expect 1 "cannot write $tmp/no/such/dir/t.db: directory $tmp/no/such/dir" \
	$T tune -q -o "$tmp/no/such/dir/t.db" --grid threshold=2,3 "$spike"
expect 1 "cannot write $tmp/no/best.json: directory $tmp/no" \
	$T tune -q -o "$tmp/ok.db" --labels "$tmp/L.jsonl" --best "$tmp/no/best.json" "$spike"
[ -e "$tmp/ok.db" ] && fail "tune ran although --best could not be written"

# --- valgrind -------------------------------------------------------------------
if [ "${TELEMETRA_SANITIZERS:-no}" != yes ] && command -v valgrind >/dev/null; then
	if (cd "$fx" && valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=3 $T tune -q -j 3 -o "$tmp/v.db" --labels "$tmp/L.jsonl" --best "$tmp/vb.json" \
		--grid threshold=1,3 --grid window=10,20 --grid merge-moments=false,true \
		--lexicon-positive lexicon_positive.txt --grid lexicon-negative=lexicon_negative.txt,"$top_srcdir/src/lexicon/negative.txt" \
		capture_a.jsonl malformed.jsonl merge.jsonl late.jsonl >/dev/null 2>"$tmp/vg.log"); then
		ok "valgrind: no error, no leak"
	else
		fail "valgrind:"; head -30 "$tmp/vg.log"
	fi
fi

[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
