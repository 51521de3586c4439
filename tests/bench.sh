#!/bin/sh
# Benchmarks: print figures, assert nothing (speed targets are not tests).
#
#   replay   a generated 1,000,000-event log with 50 streams, 3 runs:
#            records/s end to end on one core, and peak RSS; then peak RSS
#            at 250k, 500k and 1M events, which should stay flat (it is
#            bounded by open panes and distinct chatters, not input length).
#
# Usage: tests/bench.sh [replay]...   (make bench runs them all)
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${BENCH_EVENTS:=1000000}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/telemetra-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# figures LOG: "records/s peak_MB" from a replay's summary line
figures() {
	"$TELEMETRA" replay -o "$tmp/out.db" "$@" 2>&1 |
		sed -n 's/.*(\([0-9.]*\) M records\/s, peak RSS \([0-9.]*\) MB).*/\1 \2/p'
}

bench_replay() {
	echo "== replay: $BENCH_EVENTS events, 50 streams (telemetra gen --seed 1)"
	"$TELEMETRA" gen -q --seed 1 --streams 50 --events "$BENCH_EVENTS" --spikes 20 -o "$tmp/log.jsonl" || exit 1
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

for b in ${*:-replay}; do
	case $b in
	replay) bench_replay ;;
	*) echo "unknown benchmark: $b" >&2; exit 2 ;;
	esac
done
