#!/bin/sh
# report-pg.sh — `telemetra report` of a PostgreSQL database (the harness
# server, tests/pg-harness.sh): the page of rows replayed into PostgreSQL
# equals the page of the same replay into SQLite (but for the database's
# name and the runs table, whose rows record different sinks and times),
# with and without --stream/--from/--to; the filters keep what they say;
# no password reaches the page or stderr.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
T=$TELEMETRA
tmp=$(mktemp -d) || exit 99
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/pg-harness.sh"
trap 'rm -rf "$tmp"; pg_harness_cleanup' EXIT
trap 'exit 99' HUP INT TERM
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE POSTGRES_URL POSTGRES_USER POSTGRES_PASSWORD
pg_harness_start || exit 99

"$T" gen -q --seed 7 --channels 'alpha,beta,gamma' --duration 40m --chat-rate 2 --spikes 4 \
	--labels "$tmp/L.jsonl" -o "$tmp/in.jsonl" || exit 99
"$T" replay -q --merge-moments -o "$tmp/s.db" "$tmp/in.jsonl" || exit 99
timeout 120 "$T" replay -q --merge-moments --sink "postgres:$PGH_URL" "$tmp/in.jsonl" || exit 99

# same NAME ARGS...: the page of PostgreSQL and of SQLite, compared without
# the line naming the database and without the runs table.
strip() {
	sed -e '/^<p class="sub">Database /d' -e '/^<h2 id="runs">/,/^<h2 id="streams">/d' "$1"
}
same_page() {
	name=$1
	shift
	if ! timeout 60 "$T" report "$@" --title t -o "$tmp/$name-pg.html" "$PGH_URL" 2>"$tmp/$name.err"; then
		fail "report of PostgreSQL ($name) failed: $(cat "$tmp/$name.err")"; return
	fi
	"$T" report "$@" --title t -o "$tmp/$name-sq.html" "$tmp/s.db" || { fail "report of SQLite ($name) failed"; return; }
	if grep -q -e telemetra-secret "$tmp/$name-pg.html" "$tmp/$name.err"; then
		fail "$name: the password appears in the page or on stderr"
	fi
	strip "$tmp/$name-pg.html" >"$tmp/$name-pg.cmp"
	strip "$tmp/$name-sq.html" >"$tmp/$name-sq.cmp"
	if cmp -s "$tmp/$name-pg.cmp" "$tmp/$name-sq.cmp"; then
		ok "$name: the page from PostgreSQL equals the page from SQLite ($(wc -c <"$tmp/$name-pg.cmp") bytes compared)"
	else
		fail "$name: the pages differ:"; diff "$tmp/$name-pg.cmp" "$tmp/$name-sq.cmp" | head -10
	fi
}
same_page all --labels "$tmp/L.jsonl"
same_page filtered --labels "$tmp/L.jsonl" --stream beta --stream gamma --from 2025-11-23T12:10:00Z --to 2025-11-23T12:30:00Z
grep -q '<p class="sub">Database <code>postgresql://telemetra:\*\*\*@' "$tmp/all-pg.html" ||
	fail "the page does not name the database, redacted: $(grep 'class="sub">Database' "$tmp/all-pg.html")"

# The filters keep what they say: two streams, windows overlapping the range.
n=$(grep -c '<svg xmlns=' "$tmp/filtered-pg.html")
[ "$n" = 2 ] && ok "--stream twice: 2 charts" || fail "--stream beta --stream gamma: $n charts"
grep -q '>alpha<' "$tmp/filtered-pg.html" && fail "a filtered-out stream is on the page"
want=$(sqlite3 "$tmp/s.db" "select count(*) from moments where stream_id in ('beta','gamma') and timestamp >= '2025-11-23 12:10:00' and timestamp < '2025-11-23 12:30:00'")
got=$(grep -o '<table class="moments">.*' "$tmp/filtered-pg.html" | head -1 >/dev/null; python3 - "$tmp/filtered-pg.html" <<'PY'
import sys, xml.etree.ElementTree as ET
H = "{http://www.w3.org/1999/xhtml}"
t = ET.parse(sys.argv[1]).getroot().find(".//%stable[@class='moments']" % H)
print(0 if t is None else len(t.findall("./%stbody/%str" % (H, H))))
PY
)
[ "$got" = "$want" ] && ok "--from/--to: the $got moments in range" || fail "--from/--to: $got moments on the page, $want in range"

expect 2 "expected an RFC 3339 time" "$T" report --from yesterday "$tmp/s.db"
expect 2 "--to must be after --from" "$T" report --from 2025-11-23T12:00:00Z --to 2025-11-23T11:00:00Z "$tmp/s.db"
expect 1 "postgresql://telemetra:\*\*\*@127.0.0.1:1/x" timeout 60 "$T" report -o "$tmp/x.html" "postgresql://telemetra:telemetra-secret@127.0.0.1:1/x"
[ -e "$tmp/x.html" ] && fail "a failed report of PostgreSQL left a page"
[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
