#!/bin/sh
# Detection quality over many seeds: bench-detect's two data sets (mixed,
# small), generated on seeds 1..10, each scored by `telemetra tune --labels`
# at the default configuration or over a grid; printed per configuration:
# F1 on every seed, then the mean and standard deviation of F1 over the
# seeds, the mean precision and recall, the worst false moments per
# stream-hour and the worst median delay.  With 60 labels per small set a
# single seed's F1 has a sampling spread of about 0.065, so two seeds say
# little; a variant of the detector is judged on these means (issue 8,
# doc/decisions.md "Seed-to-seed spread").  Prints figures, asserts nothing.
#
# Usage: nice -n 5 tests/bench-detect-seeds.sh
# Environment: TELEMETRA (the binary scored, default src/telemetra),
# TELEMETRA_GEN (the one that generates, default TELEMETRA), BENCH_SEEDS
# (default "1 2 3 4 5 6 7 8 9 10"), BENCH_SETS (default "mixed small"),
# BENCH_GRID (tune --grid options; default none: the default configuration
# only), BENCH_TUNE_OPTS (options for every tune run, e.g. "--min-excess 4"
# or "-j 1"), BENCH_DATA (a directory where the generated sets are kept and
# reused by later runs; without it they are generated into a scratch
# directory and removed: a mixed set is about 1 GB per seed), BENCH_FALLS
# (set to 1: also replay every seed with BENCH_REPLAY_OPTS, default none,
# and print what its moments fell on, summed over the seeds: true moments,
# each decoy kind of `gen --decoys`, or ordinary traffic, matched as
# tests/bench-detect.sh matches them).
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${TELEMETRA_GEN:=$TELEMETRA}"
: "${BENCH_SEEDS:=1 2 3 4 5 6 7 8 9 10}"
: "${BENCH_SETS:=mixed small}"
: "${BENCH_GRID:=}"
: "${BENCH_TUNE_OPTS:=}"
: "${BENCH_DATA:=}"
: "${BENCH_FALLS:=}"
: "${BENCH_REPLAY_OPTS:=}"
command -v sqlite3 >/dev/null 2>&1 || { echo "bench-detect-seeds: needs sqlite3"; exit 1; }
[ -x "$TELEMETRA" ] || { echo "bench-detect-seeds: $TELEMETRA is not an executable"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/telemetra-bench-seeds.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM
t0=$(date +%s)
if [ -n "$BENCH_DATA" ]; then
	mkdir -p "$BENCH_DATA" || exit 1
	data=$BENCH_DATA
else
	data=$tmp
fi

# the data sets: the same gen options as tests/bench-detect.sh
set_opts() {
	case $1 in
	mixed) echo "--streams 40 --duration 3h --rate-min 0.05 --rate-max 50 --spikes 240" ;;
	small) echo "--streams 10 --duration 3h --rate-min 0.0167 --rate-max 1 --spikes 60" ;;
	esac
}

# falls BASE: replay BASE.jsonl, print "WHAT COUNT" lines: what its moments
# fell on (bench-detect-lib.sh, shared with tests/bench-detect.sh)
. "$(dirname "$0")/bench-detect-lib.sh"
falls() {
	db=$tmp/falls.db
	rm -f "$db"
	# shellcheck disable=SC2086
	"$TELEMETRA" replay -q $BENCH_REPLAY_OPTS -o "$db" "$1.jsonl" || { echo "bench-detect-seeds: replay failed" >&2; exit 1; }
	bd_falls "$db" "$1.labels" "$1.decoys" || exit 1
}

echo "== bench-detect-seeds: $TELEMETRA (traffic: $TELEMETRA_GEN gen), seeds $BENCH_SEEDS"
echo "   grid: ${BENCH_GRID:-(default configuration)}; tune options: ${BENCH_TUNE_OPTS:-(none)}"
for set in $BENCH_SETS; do
	case $set in mixed | small) ;; *) echo "bench-detect-seeds: unknown set $set (mixed, small)"; exit 1 ;; esac
	: >"$tmp/$set.rows"
	for seed in $BENCH_SEEDS; do
		base=$data/$set-$seed
		if [ ! -s "$base.jsonl" ] || [ ! -s "$base.labels" ]; then
			# (--force: a set cut short by an earlier run is made again)
			# shellcheck disable=SC2046
			"$TELEMETRA_GEN" gen -q --force --seed "$seed" $(set_opts $set) --labels "$base.labels" \
				--decoys "$base.decoys" -o "$base.jsonl" || exit 1
		fi
		# shellcheck disable=SC2086
		"$TELEMETRA" tune -q $BENCH_TUNE_OPTS -o "$tmp/$set-$seed.db" --labels "$base.labels" \
			$BENCH_GRID "$base.jsonl" >/dev/null ||
			{ echo "bench-detect-seeds: tune failed on $set seed $seed"; exit 1; }
		sqlite3 -batch -noheader -separator ' ' "$tmp/$set-$seed.db" \
			"select $seed, id, precision, recall, f1, false_per_stream_hour,
				coalesce(median_delay_s, 0), replace(config, ' ', '')
			from tuning_results order by id" >>"$tmp/$set.rows" || exit 1
		[ -n "$BENCH_FALLS" ] && falls "$base" >>"$tmp/$set.falls"
		[ -n "$BENCH_DATA" ] || rm -f "$base.jsonl"
	done
	echo "== $set: $(set_opts $set)"
	# per configuration: F1 per seed, mean / sd of F1, mean P and R, worst false/st-h and delay
	sort -k2,2n -k1,1n "$tmp/$set.rows" | awk -v set="$set" '
		function flush() {
			if (id == "") return
			m = sf / n; v = n > 1 ? (sf2 - n * m * m) / (n - 1) : 0
			printf "   %-5s #%-3s F1 mean %.3f sd %.3f  P %.3f R %.3f  false/st-h max %.2f  delay max %.1f s\n",
				set, id, m, sqrt(v > 0 ? v : 0), sp / n, sr / n, fph, dl
			printf "         per seed:%s\n", seeds
			printf "         %s\n", cfg
		}
		$2 != id { flush(); id = $2; n = sf = sf2 = sp = sr = fph = dl = 0; seeds = ""; cfg = $8 }
		{
			n++; sf += $5; sf2 += $5 * $5; sp += $3; sr += $4
			if ($6 > fph) fph = $6
			if ($7 > dl) dl = $7
			seeds = seeds sprintf(" %d:%.3f", $1, $5)
		}
		END { flush() }'
	if [ -n "$BENCH_FALLS" ]; then
		printf '   %s, replay %s: moments fell on (all seeds):' $set "${BENCH_REPLAY_OPTS:-(defaults)}"
		awk '{ n[$1] += $2 } END { for (k in n) printf " %s %d,", k, n[k] }' "$tmp/$set.falls" | sed 's/,$//'
		echo
	fi
done
echo "== bench-detect-seeds took $(($(date +%s) - t0)) s"
