#!/bin/sh
# bench-report.sh — figures, not a test: the report of a busy day.
#
# 50 streams x 24 h of `telemetra gen` traffic (a low chat rate, so the
# input stays near a million events; the page's size depends on the number
# of windows, 50 x 8640, not on the events), replayed, then reported.
# Prints the page's size (target < 5 MB) and how long headless Chromium
# takes to load and paint it (target < 5 s), beside the time it takes for
# an empty page, so the browser's own start-up can be told apart.  Wall
# times on a loaded machine are noisy: run it twice before believing one.
#
# Usage: TELEMETRA=src/telemetra sh tests/bench-report.sh  (or `make bench`).
# BENCH_REPORT_DIR keeps the generated input and database between runs.
set -u
T=${TELEMETRA:-src/telemetra}
dir=${BENCH_REPORT_DIR:-${TMPDIR:-/tmp}/telemetra-bench-report}
mkdir -p "$dir" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

ev=$dir/day50.jsonl.gz
db=$dir/day50.db
if [ ! -s "$db" ]; then
	echo "generating 50 streams x 24 h (once; kept in $dir) ..."
	"$T" gen --seed 7 --streams 50 --duration 24h --chat-rate 0.2 --viewer-interval 60 \
		--spikes 200 -q --force -o "$ev.tmp" && mv "$ev.tmp" "$ev" || exit 1
	rm -f "$db"
	"$T" replay -q -o "$db" "$ev" || exit 1
fi
windows=$(sqlite3 "$db" 'SELECT count(*) FROM chat_summary_minute' 2>/dev/null || echo '?')

page=$tmp/day50.html
/usr/bin/time -f '%e %U %M' -o "$tmp/time" "$T" report -o "$page" "$db" || exit 1
read -r wall user rss <"$tmp/time"
bytes=$(wc -c <"$page")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e6 }')
verdict=$(awk -v b="$bytes" 'BEGIN { print (b < 5e6 ? "ok" : "OVER") }')
printf 'report 50 streams x 24 h: %s windows, page %s MB (%s bytes; target < 5 MB: %s), written in %s s (%s s user, %s KB peak RSS)\n' \
	"$windows" "$mb" "$bytes" "$verdict" "$wall" "$user" "$rss"

if ! command -v chromium >/dev/null; then
	echo "render: chromium is not installed (apt-get install chromium); no render figure"
	exit 0
fi
# chrome URL: seconds (wall) for headless Chromium to load and paint URL.
chrome() {
	profile=$(mktemp -d "$tmp/profile.XXXXXX")
	s=$(date +%s.%N)
	timeout -k 10 300 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$profile" --screenshot="$tmp/shot.png" \
		--window-size=1280,2000 "$1" >/dev/null 2>&1 || return 1
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
}
printf '<!DOCTYPE html><html><head><title>empty</title></head><body></body></html>\n' >"$tmp/empty.html"
empty=$(chrome "file://$tmp/empty.html") || { echo "render: chromium failed on an empty page"; exit 0; }
best=
for i in 1 2; do
	t=$(chrome "file://$page") || { echo "render: chromium failed on the page"; exit 0; }
	best=$(awk -v a="${best:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
done
net=$(awk -v a="$best" -v b="$empty" 'BEGIN { printf "%.2f", a - b }')
verdict=$(awk -v t="$best" 'BEGIN { print (t < 5 ? "ok" : "OVER") }')
printf 'render in headless Chromium: %s s (best of 2, wall; target < 5 s: %s), of which the browser start-up on an empty page %s s, the page %s s\n' \
	"$best" "$verdict" "$empty" "$net"
