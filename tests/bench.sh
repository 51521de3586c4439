#!/bin/sh
# Benchmarks: print figures, assert nothing (speed targets are not tests).
#
#   replay   a generated 1,000,000-event log with 50 streams, 3 runs:
#            records/s end to end on one core, and peak RSS; then peak RSS
#            at 250k, 500k and 1M events, which should stay flat (it is
#            bounded by open panes and distinct chatters, not input length).
#   live     a 1,000,000-event log of 500 streams produced into a librdkafka
#            mock cluster (256 partitions per topic, so that each stays under
#            the mock's 5 MB), consumed by `telemetra live` into PostgreSQL:
#            sustained records/s, and the delay from a window closing to its
#            row being committed, p50 and p99 (targets: 250,000/s; p99 at
#            most trigger + 1 s); then the same again into an empty
#            database with --metrics on and a scraper polling every 100 ms
#            (target: records/s within 3 %).
#   tune     the same log: a 100-value threshold sweep and a 24-configuration
#            window x threshold grid, each timed against one replay (best of
#            3 runs each; targets: the sweep under 2 replays, the grid under
#            24 replays / cores).
#   scale    many distinct keys (issue 9, item 9): 1,000,000 streams seen
#            once each; 100,000 partitions; 100,000 topics; replay wall time
#            and peak RSS (targets: 1 M streams under 5 s and 200 MB, 100 k
#            partitions under 5 s), with the default and tumbling windows.
#
# Usage: tests/bench.sh [replay|live|tune|scale]...   (make bench runs them all)
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${BENCH_EVENTS:=1000000}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/telemetra-bench.XXXXXX") || exit 1
mock_pid=
bench_cleanup() {
	[ -n "$mock_pid" ] && { printf 'quit\n' >&3; wait "$mock_pid"; } 2>/dev/null
	rm -rf "$tmp"
}
trap 'bench_cleanup; pg_harness_cleanup 2>/dev/null' EXIT
trap 'exit 99' HUP INT TERM

# figures LOG: "records/s peak_MB" from a replay's summary line
figures() {
	"$TELEMETRA" replay -o "$tmp/out.db" "$@" 2>&1 |
		sed -n 's/.*(\([0-9.]*\) M records\/s, peak RSS \([0-9.]*\) MB).*/\1 \2/p'
}

make_log() {
	[ -s "$tmp/log.jsonl" ] ||
		"$TELEMETRA" gen -q --seed 1 --streams 50 --events "$BENCH_EVENTS" --spikes 20 -o "$tmp/log.jsonl" ||
		exit 1
}

bench_replay() {
	echo "== replay: $BENCH_EVENTS events, 50 streams (telemetra gen --seed 1)"
	make_log
	echo "   log: $(wc -c <"$tmp/log.jsonl") bytes"
	for run in 1 2 3; do
		set -- $(figures "$tmp/log.jsonl")
		printf '   run %d: %s M records/s, peak RSS %s MB\n' "$run" "$1" "$2"
	done
	echo "== replay: peak RSS against input length"
	for n in 250000 500000 1000000; do
		head -n "$n" "$tmp/log.jsonl" >"$tmp/part.jsonl"
		set -- $(figures "$tmp/part.jsonl")
		printf '   %7d events: peak RSS %s MB (%s M records/s)\n' "$n" "$2" "$1"
	done
}

bench_live() {
	echo "== live: $BENCH_EVENTS events through a mock Kafka cluster into PostgreSQL"
	# 500 streams over 256 partitions: keyed by stream, a partition holds a
	# few streams, about 1 MB, well under the mock broker's 5 MB a partition
	# (with 50 streams, streams sharing a partition overflow it).
	"$TELEMETRA" gen -q --seed 2 --streams 500 --events "$BENCH_EVENTS" -o "$tmp/live.jsonl" || exit 1
	. "$top_srcdir/tests/pg-harness.sh"
	pg_harness_start >/dev/null || exit 1
	mkfifo "$tmp/mock.in" "$tmp/mock.out"
	exec 3<>"$tmp/mock.in" 4<>"$tmp/mock.out"
	"$top_builddir/tests/kafka-mock" --partitions 256 <"$tmp/mock.in" >"$tmp/mock.out" \
		2>"$tmp/mock.err" 3>&- 4>&- &
	mock_pid=$!
	IFS= read -r line <&4
	bs=${line#bootstrap=}
	start=$(date +%s.%N)
	n=$("$top_builddir/tests/kafka-produce" "$bs" "$tmp/live.jsonl") || exit 1
	end=$(date +%s.%N)
	echo "   produced $n messages in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
	live_run plain "$PGH_URL"
	# Again, into an empty database, with --metrics on and a scraper
	# polling /metrics every 100 ms (target: within 3 % of the above).
	"$PGH_BINDIR/psql" -X -w -q -h "$PGH_SOCKDIR" -p "$PGH_PORT" -U postgres -d postgres \
		-c "CREATE DATABASE metrics OWNER telemetra" || exit 1
	live_run metrics "${PGH_URL%/*}/metrics" --metrics 127.0.0.1:0
}

# live_run NAME URL [OPTIONS...]: consume everything produced into URL
live_run() {
	name=$1 url=$2
	shift 2
	"$TELEMETRA" live --brokers "$bs" --postgres "$url" --offset-reset earliest --group "bench-$name" \
		${LIVE_OPTIONS:-} -X session.timeout.ms=6000 "$@" >"$tmp/live.log" 2>&1 &
	pid=$!
	scraper=
	case "$*" in
	*--metrics*)
		until port=$(sed -n 's/.*serving .* (port \([0-9]*\)).*/\1/p' "$tmp/live.log") && [ -n "$port" ]; do
			sleep 0.1
		done
		python3 -c 'import sys, time, urllib.request
n = 0
while True:
    urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read()
    n += 1
    time.sleep(0.1)' "$port" &
		scraper=$!
		;;
	esac
	until [ "$("$PGH_BINDIR/psql" -X -w -A -t -d "$url" -c \
		"SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets" 2>/dev/null)" = "$n" ]; do
		kill -0 "$pid" 2>/dev/null || { echo "   the daemon died:"; tail "$tmp/live.log"; exit 1; }
		sleep 0.5
	done
	kill -TERM "$pid"
	wait "$pid"
	[ -n "$scraper" ] && { kill "$scraper"; wait "$scraper" 2>/dev/null; }
	echo "   $name: $(sed -n 's/.*stopped: //p' "$tmp/live.log")"
	# The broker side shares the two cores: say what it cost.
	ticks=$(awk '{ print $14 + $15 }' "/proc/$mock_pid/stat" 2>/dev/null)
	[ -n "$ticks" ] && echo "   the mock cluster (one process) used $(awk "BEGIN { printf \"%.1f\", $ticks / $(getconf CLK_TCK) }") s of CPU so far, producing included"
	grep "committed" "$tmp/live.log" | sed "s/^[^ ]* [a-z]* telemetra live: /   /"
}

# best_time COMMAND...: the shortest wall time of 3 runs, in seconds
best_time() {
	best=
	for run in 1 2 3; do
		start=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "   failed: $*" >&2; exit 1; }
		end=$(date +%s.%N)
		best=$(awk -v s="$start" -v e="$end" -v b="$best" \
			'BEGIN { t = e - s; if (b != "" && b + 0 < t) t = b; printf "%.3f", t }')
	done
	echo "$best"
}

bench_tune() {
	make_log
	cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	echo "== tune: $BENCH_EVENTS events, 50 streams, $cores cores (best of 3 runs each)"
	one=$(best_time "$TELEMETRA" replay -q -o "$tmp/out.db" "$tmp/log.jsonl") || exit 1
	sweep=$(best_time "$TELEMETRA" tune -q -o "$tmp/tune.db" --grid threshold=1:10.9:0.1 \
		"$tmp/log.jsonl") || exit 1
	grid=$(best_time "$TELEMETRA" tune -q -o "$tmp/tune.db" --grid window=30,60,90,120 \
		--grid threshold=2:4.5:0.5 "$tmp/log.jsonl") || exit 1
	awk -v one="$one" -v sweep="$sweep" -v grid="$grid" -v cores="$cores" 'BEGIN {
		printf "   one replay:                               %6.2f s\n", one
		printf "   threshold sweep, 100 configurations:      %6.2f s = %5.2f replays" \
		       " (target: under 2) %s\n", sweep, sweep / one, sweep < 2 * one ? "met" : "MISSED"
		printf "   window x threshold, 24 configurations:    %6.2f s = %5.2f replays" \
		       " (target: under 24 / %d = %.1f) %s\n", grid, grid / one, cores, 24 / cores,
		       grid < 24 / cores * one ? "met" : "MISSED"
	}'
}

# scale_log KIND N: N lines, each a new stream / partition / topic, 1 ms apart
scale_log() {
	awk -v kind="$1" -v n="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			ev = sprintf("{\"timestamp\":%.0f,\"stream_id\":\"s%d\",\"user_id\":\"u%d\",\"message\":\"hi\"}",
			             1763899200000 + i, kind == "topics" ? i % 100 : i, i % 1000)
			if (kind == "streams") { print ev; continue }
			gsub(/"/, "\\\"", ev)
			printf "{\"topic\":\"%s\",\"partition\":%d,\"offset\":0,\"value\":\"%s\"}\n",
			       kind == "topics" ? "t" i : "telemetra.events.chat", kind == "topics" ? 0 : i, ev
		}
	}' >"$tmp/scale.jsonl"
}

bench_scale() {
	for case in "streams 1000000" "partitions 100000" "topics 100000"; do
		set -- $case
		scale_log "$1" "$2"
		for opts in "" "--window 10 --slide 10"; do
			start=$(date +%s.%N)
			# shellcheck disable=SC2086
			set -- $case $(figures $opts "$tmp/scale.jsonl")
			secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
			printf '== scale: %7d %-10s %-22s %6.2f s, peak RSS %s MB\n' "$2" "$1" \
				"${opts:-(default windows)}" "$secs" "$4"
		done
	done
	echo "   targets: 1 M streams under 5 s and 200 MB; 100 k partitions under 5 s"
}

for b in ${*:-replay live tune scale}; do
	case $b in
	scale) bench_scale ;;
	replay) bench_replay ;;
	live) bench_live ;;
	tune) bench_tune ;;
	*) echo "unknown benchmark: $b" >&2; exit 2 ;;
	esac
done
