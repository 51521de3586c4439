#!/bin/sh
# Benchmarks: print figures, assert nothing (speed targets are not tests).
#
#   replay   a generated 1,000,000-event log with 50 streams: 3 runs each of
#            --threads 1 and --threads 2, wall, user and peak RSS, each next
#            to the same moment's `cat LOG > /dev/null`, then min and median
#            (targets: 3.0 M events/s with 2 threads, 1.8 M with 1); peak
#            RSS at 250k, 1M and 4M events, which should stay flat (it is
#            bounded by open panes and distinct chatters, not input length);
#            5000 streams against 50 for the same event count (target:
#            1.3x); and, when node and @duckdb/node-api are there, DuckDB
#            computing the same window aggregates (tests/duckdb-bench.js).
#   live     a 1,000,000-event log of 500 streams produced into a librdkafka
#            mock cluster (256 partitions per topic, so that each stays under
#            the mock's 5 MB), consumed by `telemetra live` into PostgreSQL:
#            sustained records/s, and the delay from a window closing to its
#            row being committed, p50 and p99 (targets: 250,000/s; p99 at
#            most trigger + 1 s); then the same again into an empty
#            database with --metrics on and a scraper polling every 100 ms
#            (target: records/s within 3 %).
#   tune     the same log: a 100-value threshold sweep and a 24-configuration
#            window x slide x threshold grid, each timed against one replay
#            (3 runs each, interleaved, min and median wall; targets, issue
#            12: the sweep within 1.2 replays, the grid within 2).
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

# timed COMMAND...: "wall_s user_s peak_KB" of one run (user and peak
# empty without /usr/bin/time)
timed() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %U %M' -o "$tmp/time" "$@" >/dev/null 2>&1 || { echo "   failed: $*" >&2; exit 1; }
		cat "$tmp/time"
	else
		start=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "   failed: $*" >&2; exit 1; }
		awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f - -\n", e - s }'
	fi
}

# stats: min and median of the numbers on stdin, one a line
stats() {
	sort -n | awk '{ v[NR] = $1 } END { printf "%s %s", v[1], v[int((NR + 1) / 2)] }'
}

# replay_runs LABEL EVENTS LOG OPTIONS...: 3 runs, each next to the same
# moment's `cat LOG > /dev/null`; prints each, then min and median
replay_runs() {
	label=$1 events=$2 log=$3
	shift 3
	: >"$tmp/walls"
	for run in 1 2 3; do
		cat_wall=$(timed cat "$log" | cut -d' ' -f1)
		res=$(timed "$TELEMETRA" replay -q -o "$tmp/out.db" "$@" "$log") || exit 1
		echo "${res%% *}" >>"$tmp/walls"
		awk -v l="$label" -v r="$run" -v n="$events" -v res="$res" -v c="$cat_wall" 'BEGIN {
			split(res, a, " ")
			printf "   %s run %d: %5.2f s wall = %5.2f M events/s, %5.2f s user, peak RSS %5.1f MB; cat %4.2f s\n",
			       l, r, a[1], n / a[1] / 1e6, a[2], a[3] / 1024, c }'
	done
	med=$(stats <"$tmp/walls")
	awk -v l="$label" -v n="$events" -v s="$med" 'BEGIN {
		split(s, a, " ")
		printf "   %s: min %.2f s = %.2f M events/s, median %.2f s = %.2f M events/s\n",
		       l, a[1], n / a[1] / 1e6, a[2], n / a[2] / 1e6 }'
	last_median=${med#* }
}

bench_replay() {
	cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	echo "== replay: $BENCH_EVENTS events, 50 streams (telemetra gen --seed 1), $cores cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	make_log
	echo "   log: $(wc -c <"$tmp/log.jsonl") bytes"
	replay_runs "--threads 1" "$BENCH_EVENTS" "$tmp/log.jsonl" --threads 1
	t1=$last_median
	replay_runs "--threads 2" "$BENCH_EVENTS" "$tmp/log.jsonl" --threads 2
	t2=$last_median
	awk -v n="$BENCH_EVENTS" -v t1="$t1" -v t2="$t2" 'BEGIN {
		printf "   targets (medians, wall): --threads 2 >= 3.0 M events/s: %.2f %s; --threads 1 >= 1.8 M events/s: %.2f %s\n",
		       n / t2 / 1e6, (n / t2 >= 3e6) ? "met" : "MISSED", n / t1 / 1e6, (n / t1 >= 1.8e6) ? "met" : "MISSED" }'

	echo "== replay: peak RSS against input length (--threads 2; target: within 10 %)"
	n4=$((BENCH_EVENTS * 4))
	"$TELEMETRA" gen -q --seed 1 --streams 50 --events "$n4" --spikes 20 -o "$tmp/long.jsonl" || exit 1
	: >"$tmp/rss"
	for n in $((BENCH_EVENTS / 4)) "$BENCH_EVENTS" "$n4"; do
		head -n "$n" "$tmp/long.jsonl" >"$tmp/part.jsonl"
		set -- $(timed "$TELEMETRA" replay -q --threads 2 -o "$tmp/out.db" "$tmp/part.jsonl")
		echo "$3" >>"$tmp/rss"
		awk -v n="$n" -v w="$1" -v m="$3" 'BEGIN {
			printf "   %8d events: peak RSS %5.1f MB (%.2f s wall, %.2f M events/s)\n", n, m / 1024, w, n / w / 1e6 }'
	done
	sort -n "$tmp/rss" | awk '{ v[NR] = $1 } END {
		printf "   largest / smallest: %.2f %s\n", v[NR] / v[1], (v[NR] <= 1.1 * v[1]) ? "met" : "MISSED" }'
	rm -f "$tmp/long.jsonl" "$tmp/part.jsonl"

	echo "== replay: 5000 streams against 50, $BENCH_EVENTS events each (--threads 2; target: within 1.3x)"
	"$TELEMETRA" gen -q --seed 1 --streams 5000 --events "$BENCH_EVENTS" -o "$tmp/wide.jsonl" || exit 1
	replay_runs "  50 streams" "$BENCH_EVENTS" "$tmp/log.jsonl" --threads 2
	narrow=$last_median
	replay_runs "5000 streams" "$BENCH_EVENTS" "$tmp/wide.jsonl" --threads 2
	awk -v a="$narrow" -v b="$last_median" 'BEGIN {
		printf "   5000 / 50 streams: %.2fx %s\n", b / a, (b <= 1.3 * a) ? "met" : "MISSED" }'
	rm -f "$tmp/wide.jsonl"

	bench_duckdb
}

# DuckDB computing the same window aggregates (tests/duckdb-bench.js), when
# node and the npm package @duckdb/node-api are there (NODE_PATH may name
# its node_modules); never required.
bench_duckdb() {
	echo "== replay against DuckDB (@duckdb/node-api), the same $BENCH_EVENTS-event file"
	if ! command -v node >/dev/null 2>&1; then
		echo "   skipped: no node"
		return
	fi
	node "$top_srcdir/tests/duckdb-bench.js" "$tmp/log.jsonl" >"$tmp/duck" 2>&1
	case $? in
	0) ;;
	3) echo "   skipped: $(cat "$tmp/duck")"; return ;;
	*) echo "   failed: $(cat "$tmp/duck")"; return ;;
	esac
	: >"$tmp/dwalls"
	for run in 1 2 3; do
		set -- $(timed node "$top_srcdir/tests/duckdb-bench.js" "$tmp/log.jsonl")
		echo "$1" >>"$tmp/dwalls"
		echo "   duckdb run $run: $1 s wall, $2 s user, peak RSS $(awk -v m="$3" 'BEGIN { printf "%.1f", m / 1024 }') MB"
	done
	set -- $(stats <"$tmp/dwalls")
	awk -v lo="$1" -v med="$2" -v t2="$t2" -v rows="$(cut -d' ' -f4 "$tmp/duck")" 'BEGIN {
		printf "   duckdb: min %.2f s, median %.2f s (%s window rows; counts, distinct chatters and\n" \
		       "   viewers only: no sentiment, emotes, watermark or moments) = %.2fx replay --threads 2\n",
		       lo, med, rows, med / t2 }'
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

# The tune grids of issue 12's targets: a 100-value threshold sweep, and 24
# configurations varying window, slide and threshold (2 x 3 x 4: 6 windowings).
TUNE_SWEEP="--grid threshold=1:10.9:0.1"
TUNE_GRID="--grid window=60,120 --grid slide=10,20,30 --grid threshold=2:3.5:0.5"

bench_tune() {
	make_log
	cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	echo "== tune: $BENCH_EVENTS events, 50 streams, $cores cores (3 runs each, interleaved)"
	echo "   sweep: $TUNE_SWEEP"
	echo "   grid:  $TUNE_GRID"
	: >"$tmp/tune-times"
	for run in 1 2 3; do
		# replay, sweep and grid in turn, so that a busy moment hits all three
		t=$(timed "$TELEMETRA" replay -q -o "$tmp/out.db" "$tmp/log.jsonl") || exit 1
		echo "replay $t" >>"$tmp/tune-times"
		# shellcheck disable=SC2086
		t=$(timed "$TELEMETRA" tune -q -o "$tmp/tune.db" $TUNE_SWEEP "$tmp/log.jsonl") || exit 1
		echo "sweep $t" >>"$tmp/tune-times"
		# shellcheck disable=SC2086
		t=$(timed "$TELEMETRA" tune -q -o "$tmp/tune.db" $TUNE_GRID "$tmp/log.jsonl") || exit 1
		echo "grid $t" >>"$tmp/tune-times"
	done
	for what in replay sweep grid; do
		wall=$(awk -v w="$what" '$1 == w { print $2 }' "$tmp/tune-times" | stats)
		user=$(awk -v w="$what" '$1 == w { print $3 }' "$tmp/tune-times" | stats)
		echo "$what $wall $user"
	done | awk '
	{ min[$1] = $2; med[$1] = $3; umin[$1] = $4 }
	END {
		printf "   one replay:                             wall min %6.2f s, median %6.2f s (user %.2f s)\n",
		       min["replay"], med["replay"], umin["replay"]
		line("threshold sweep, 100 configurations  ", "sweep", 1.2)
		line("window x slide x threshold, 24 configs", "grid", 2)
	}
	function line(label, k, target) {
		r = min[k] / min["replay"]
		printf "   %s: wall min %6.2f s, median %6.2f s (user %.2f s) = %4.2f replays" \
		       " (median %4.2f; target: within %.1f) %s\n", label, min[k], med[k], umin[k], r,
		       med[k] / med["replay"], target, r <= target ? "met" : "MISSED"
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
			rm -f "$tmp/out.db"
			# wall, user CPU (what a shared machine does not move) and peak RSS
			# shellcheck disable=SC2086
			set -- $case $(timed "$TELEMETRA" replay -q -o "$tmp/out.db" $opts "$tmp/scale.jsonl")
			mb=$(awk -v k="$5" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%d", k / 1024; else print "-" }')
			printf '== scale: %7d %-10s %-22s %6.2f s (user %s s), peak RSS %s MB\n' "$2" "$1" \
				"${opts:-(default windows)}" "$3" "$4" "$mb"
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
