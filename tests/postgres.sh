#!/bin/sh
# postgres.sh — the PostgreSQL side of telemetra, against a throwaway server
# (tests/pg-harness.sh):
#
#   - `telemetra migrate` (PostgreSQL and SQLite) is idempotent and creates
#     the seed's tables with exactly the seed's columns;
#   - every golden fixture replayed into PostgreSQL dumps byte for byte as
#     the committed fixtures/NAME.dump, i.e. as from SQLite; awkward rows
#     written through both sinks dump the same;
#   - a JDBC URL with POSTGRES_USER / POSTGRES_PASSWORD works;
#   - no password reaches stderr, failures included, and a database that
#     is not there fails within bounded time;
#   - tests/sink-test: checkpoints of both sinks read back; a commit while
#     the server is stopped keeps its batch and the retry writes it once.
#
# Automake test protocol: 0 pass, 1 fail, 77 skip (no PostgreSQL), 99 hard
# error.  POSIX sh.  Binaries from $TELEMETRA and $top_builddir/tests.
set -u

: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
SINK_TEST=${SINK_TEST:-${top_builddir:-.}/tests/sink-test}
fixtures=$top_srcdir/fixtures
SECRET=telemetra-secret
t0=$(date +%s)
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
hard_error() {
	echo "ERROR: $*"
	exit 99
}
step() {
	echo "== [$(($(date +%s) - t0))s] $*"
}

# shellcheck source=tests/pg-harness.sh
. "$top_srcdir/tests/pg-harness.sh"

[ -x "$TELEMETRA" ] || hard_error "telemetra not found at $TELEMETRA"
[ -x "$SINK_TEST" ] || hard_error "sink-test not found at $SINK_TEST; make tests/sink-test"
command -v timeout >/dev/null 2>&1 || hard_error "timeout (coreutils) not found"

tmp=
child=
# shellcheck disable=SC2317 # called from the EXIT trap
local_cleanup() {
	if [ -n "$child" ]; then
		kill "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
}
# The EXIT trap must name pg_harness_cleanup (pg_harness_start checks).
trap 'local_cleanup; pg_harness_cleanup' EXIT
trap 'exit 99' HUP INT TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postgres-test.XXXXXX") || hard_error "cannot create a temp dir"
# No credentials from the environment of whoever runs the tests.
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE POSTGRES_URL POSTGRES_USER \
	POSTGRES_PASSWORD
PGPASSFILE=$tmp/no-pgpass
export PGPASSFILE

# Does file $1 hold a password?  $2...: further strings that must not appear.
no_secret() {
	_f=$1
	shift
	for _s in "$SECRET" "$@"; do
		if grep -qF -e "$_s" "$_f"; then
			fail "'$_s' appears in $_f:"
			sed 's/^/    /' "$_f"
		fi
	done
}

# Run telemetra, stdout to $tmp/out, stderr to $tmp/err, status in $rc;
# bounded in time.
run() {
	rc=0
	timeout 120 "$TELEMETRA" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

expect_rc() {
	if [ "$rc" != "$1" ]; then
		fail "$2: exit status $rc, expected $1; stderr:"
		sed 's/^/    /' "$tmp/err"
	fi
}

# --- no server needed -------------------------------------------------------

step "targets, JDBC URLs and secret scrubbing (sink-test target)"
"$SINK_TEST" target 2>"$tmp/target.log" || fail "sink-test target"
cat "$tmp/target.log"

step "migrate: usage"
run migrate --help
expect_rc 0 "migrate --help"
grep -q 'Usage: telemetra migrate' "$tmp/out" || fail "migrate --help prints no usage"
run migrate --version
expect_rc 0 "migrate --version"
run migrate
expect_rc 2 "migrate without a database"
run migrate --postgres "postgresql://u:$SECRET@127.0.0.1:1/db" --sqlite "$tmp/x.db"
expect_rc 2 "migrate with two databases"
run migrate --postgress="postgresql://u:$SECRET@127.0.0.1:1/db"
expect_rc 2 "migrate with a misspelt option"
no_secret "$tmp/err"
run migrate "postgresql://u:$SECRET@127.0.0.1:1/db"
expect_rc 2 "migrate with a positional URL"
no_secret "$tmp/err"

step "a port where nothing listens: exit 1, in bounded time, no password"
# Each command retries for a few seconds: run them side by side.
i=0
for target in "postgresql://telemetra:$SECRET@127.0.0.1:1/telemetra" \
	"jdbc:postgresql://127.0.0.1:1/telemetra?user=telemetra&password=$SECRET" \
	"host=127.0.0.1 port=1 user=telemetra password='$SECRET'" \
	"postgresql://telemetra:$SECRET%zz@127.0.0.1:1/telemetra"; do
	for cmd in migrate dump replay; do
		i=$((i + 1))
		case $cmd in
		migrate) set -- migrate --postgres "$target" ;;
		dump) set -- dump "$target" ;;
		replay) set -- replay -q --sink "postgres:$target" "$fixtures/spike.jsonl" ;;
		esac
		(
			start=$(date +%s)
			rc=0
			timeout 120 "$TELEMETRA" "$@" >/dev/null 2>"$tmp/nothing.$i.err" || rc=$?
			echo "$rc $(($(date +%s) - start)) $cmd" >"$tmp/nothing.$i.rc"
		) &
	done
done
wait
while [ "$i" -gt 0 ]; do
	read -r rc took cmd <"$tmp/nothing.$i.rc"
	[ "$rc" = 1 ] || fail "$cmd against nothing: exit status $rc: $(cat "$tmp/nothing.$i.err")"
	[ "$took" -le 30 ] || fail "$cmd against nothing took $took s"
	no_secret "$tmp/nothing.$i.err"
	grep -q 'PostgreSQL .*127\.0\.0\.1.*1' "$tmp/nothing.$i.err" ||
		fail "$cmd against nothing does not name the target: $(cat "$tmp/nothing.$i.err")"
	i=$((i - 1))
done
echo "for instance: $(tail -n 1 "$tmp/nothing.1.err")"

step "migrate --sqlite, twice"
run migrate --sqlite "$tmp/migrated.db"
expect_rc 0 "migrate --sqlite"
[ "$(cat "$tmp/out")" = "schema at version 4: applied 4 migrations" ] ||
	fail "migrate --sqlite said: $(cat "$tmp/out")"
run migrate --sqlite "$tmp/migrated.db"
expect_rc 0 "migrate --sqlite again"
[ "$(cat "$tmp/out")" = "already at version 4" ] ||
	fail "migrate --sqlite again said: $(cat "$tmp/out")"

# The seed's columns (seed/spark-streaming-job-README.md), SPEC §6.
seed_summary="id integer
stream_id character varying(255) NO
window_start timestamp without time zone NO
window_end timestamp without time zone NO
chat_count integer
unique_chatters integer
avg_sentiment double precision
positive_count integer
negative_count integer
chat_rate double precision
avg_viewers double precision
top_emotes text[]
z_score double precision
is_anomaly boolean
processed_at timestamp without time zone"
seed_moments="id integer
stream_id character varying(255) NO
timestamp timestamp without time zone NO
moment_type character varying(50) NO
description text
intensity double precision
metadata jsonb
detected_at timestamp without time zone"

if command -v sqlite3 >/dev/null 2>&1; then
	for table in chat_summary_minute moments; do
		got=$(sqlite3 "$tmp/migrated.db" "SELECT name FROM pragma_table_info('$table')")
		case $table in
		chat_summary_minute) want=$seed_summary ;;
		*) want=$seed_moments ;;
		esac
		want=$(printf '%s\n' "$want" | cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "SQLite $table columns: $got"
	done
	got=$(sqlite3 "$tmp/migrated.db" "SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' ORDER BY name" | tr '\n' ' ')
	[ "$got" = "capture_lengths chat_summary_minute consumer_offsets core_state dead_letters moments runs schema_version " ] ||
		fail "SQLite tables: $got"
else
	echo "(sqlite3 not installed: SQLite columns not checked)"
fi

# --- PostgreSQL ---------------------------------------------------------------

step "start PostgreSQL"
pg_harness_start || hard_error "pg_harness_start failed (see above)"
echo "PGH_URL_NOPASS=$PGH_URL_NOPASS"

step "migrate --postgres, twice"
run migrate --postgres "$PGH_URL"
expect_rc 0 "migrate --postgres"
[ "$(cat "$tmp/out")" = "schema at version 4: applied 4 migrations" ] ||
	fail "migrate --postgres said: $(cat "$tmp/out")"
no_secret "$tmp/err"
run migrate --postgres "$PGH_URL"
expect_rc 0 "migrate --postgres again"
[ "$(cat "$tmp/out")" = "already at version 4" ] ||
	fail "migrate --postgres again said: $(cat "$tmp/out")"

columns() {
	pg_harness_psql "SELECT column_name || ' ' ||
		CASE WHEN data_type = 'ARRAY' THEN substr(udt_name, 2) || '[]' ELSE data_type END ||
		coalesce('(' || character_maximum_length || ')', '') ||
		CASE WHEN is_nullable = 'NO' AND column_name <> 'id' THEN ' NO' ELSE '' END
		FROM information_schema.columns WHERE table_name = '$1' ORDER BY ordinal_position"
}
got=$(columns chat_summary_minute)
[ "$got" = "$seed_summary" ] || fail "chat_summary_minute columns differ from the seed: $got"
got=$(columns moments)
[ "$got" = "$seed_moments" ] || fail "moments columns differ from the seed: $got"
got=$(pg_harness_psql "SELECT table_name FROM information_schema.tables
	WHERE table_schema = 'public' ORDER BY table_name" | tr '\n' ' ')
[ "$got" = "capture_lengths chat_summary_minute consumer_offsets core_state dead_letters moments runs schema_version " ] ||
	fail "PostgreSQL tables: $got"
got=$(pg_harness_psql "SELECT conname FROM pg_constraint WHERE contype = 'u'
	AND connamespace = 'public'::regnamespace ORDER BY 1" |
	tr '\n' ' ')
[ "$got" = "chat_summary_minute_key dead_letters_key moments_key " ] ||
	fail "unique keys: $got"

step "two migrations at once (advisory lock)"
pg_harness_psql "DROP TABLE chat_summary_minute, moments, dead_letters, runs, consumer_offsets,
	core_state, capture_lengths, schema_version" || hard_error "cannot drop the schema"
timeout 60 "$TELEMETRA" migrate --postgres "$PGH_URL" >"$tmp/m1" 2>"$tmp/m1.err" &
m1=$!
timeout 60 "$TELEMETRA" migrate --postgres "$PGH_URL" >"$tmp/m2" 2>"$tmp/m2.err" || fail "concurrent migrate 2: $(cat "$tmp/m2.err")"
wait "$m1" || fail "concurrent migrate 1: $(cat "$tmp/m1.err")"
got=$(sort "$tmp/m1" "$tmp/m2" | tr '\n' '|')
[ "$got" = "already at version 4|schema at version 4: applied 4 migrations|" ] ||
	fail "concurrent migrations said: $got"

step "migration 004 keys capture lengths already there on a hash of the path"
pg_harness_psql "DROP TABLE chat_summary_minute, moments, dead_letters, runs, consumer_offsets,
	core_state, capture_lengths, schema_version" || hard_error "cannot drop the schema"
for f in 001_initial 002_checkpoint 003_dead_letter_keys_runs; do
	pg_harness_psql "$(cat "$top_srcdir/sql/postgres/$f.sql")" >/dev/null || hard_error "cannot apply $f"
done
pg_harness_psql "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL);
	INSERT INTO schema_version VALUES (1, 'initial', now()), (2, 'checkpoint', now()),
	(3, 'dead_letter_keys_runs', now());
	INSERT INTO capture_lengths VALUES ('g', '/old/capture.jsonl', 42, now())" ||
	hard_error "cannot build a version 3 database"
run migrate --postgres "$PGH_URL"
[ "$(cat "$tmp/out")" = "schema at version 4: applied 1 migration" ] ||
	fail "migrate from version 3 said: $(cat "$tmp/out") $(cat "$tmp/err")"
got=$(pg_harness_psql "SELECT path_key = encode(sha256('/old/capture.jsonl'::bytea), 'hex'), path, bytes
	FROM capture_lengths")
[ "$got" = "t|/old/capture.jsonl|42" ] || fail "migrated capture length: $got"

truncate_outputs() {
	pg_harness_psql "TRUNCATE chat_summary_minute, moments, dead_letters" ||
		hard_error "TRUNCATE failed"
}

step "every golden fixture, replayed into PostgreSQL, dumps as committed"
count=0
for args_file in "$fixtures"/*.args; do
	name=$(basename "$args_file" .args)
	count=$((count + 1))
	truncate_outputs
	args=$(grep -v '^[[:space:]]*#' "$args_file" | tr '\n' ' ')
	# shellcheck disable=SC2086 # the args file is a word list
	if ! (cd "$fixtures" && timeout 120 "$TELEMETRA" replay -q --sink "postgres:$PGH_URL" \
		$args) 2>"$tmp/$name.err"; then
		fail "$name: replay into PostgreSQL failed: $(cat "$tmp/$name.err")"
		continue
	fi
	no_secret "$tmp/$name.err"
	if ! timeout 60 "$TELEMETRA" dump "$PGH_URL" >"$tmp/$name.dump" 2>"$tmp/$name.err"; then
		fail "$name: dump of PostgreSQL failed: $(cat "$tmp/$name.err")"
	elif ! diff -u "$fixtures/$name.dump" "$tmp/$name.dump" >"$tmp/$name.diff"; then
		fail "$name: the PostgreSQL dump differs from fixtures/$name.dump:"
		cat "$tmp/$name.diff"
	else
		echo "ok   $name"
	fi
done
[ "$count" -ge 10 ] || fail "only $count golden fixtures"
got=$(pg_harness_psql "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL")
[ "$got" = "$count" ] || fail "expected $count finished runs, found $got"
got=$(pg_harness_psql "SELECT count(*) FROM runs WHERE config::text LIKE '%$SECRET%'")
[ "$got" = 0 ] || fail "a password was recorded in the runs table"

step "a JDBC URL with POSTGRES_USER / POSTGRES_PASSWORD"
jdbc=jdbc:postgresql://127.0.0.1:$PGH_PORT/telemetra
POSTGRES_USER=telemetra POSTGRES_PASSWORD=$SECRET run migrate --postgres "$jdbc"
expect_rc 0 "migrate with a JDBC URL and the environment"
[ "$(cat "$tmp/out")" = "already at version 4" ] || fail "JDBC migrate said: $(cat "$tmp/out")"
POSTGRES_URL=$jdbc POSTGRES_USER=telemetra POSTGRES_PASSWORD=$SECRET run migrate
expect_rc 0 "migrate with POSTGRES_URL"
POSTGRES_USER=telemetra POSTGRES_PASSWORD=$SECRET run dump "$jdbc"
expect_rc 0 "dump with a JDBC URL and the environment"
cmp -s "$tmp/out" "$tmp/$name.dump" || fail "the JDBC dump differs from the URL dump"
run dump "$jdbc?user=telemetra&password=$SECRET&ApplicationName=x&prepareThreshold=0"
expect_rc 0 "dump with credentials in the JDBC URL"
cmp -s "$tmp/out" "$tmp/$name.dump" || fail "the JDBC dump differs from the URL dump"
grep -q 'prepareThreshold' "$tmp/err" || fail "no word about the ignored JDBC parameter"
no_secret "$tmp/err"
POSTGRES_USER=telemetra POSTGRES_PASSWORD=wrong-pass-4711 run migrate --postgres "$jdbc"
expect_rc 1 "migrate with a wrong password"
no_secret "$tmp/err" wrong-pass-4711
grep -q 'authentication failed' "$tmp/err" || fail "wrong password: $(cat "$tmp/err")"
run migrate --postgres "$PGH_URL_NOPASS"
expect_rc 1 "migrate without a password"
echo "without a password: $(cat "$tmp/err")"

step "replay into tables that hold rows: --append or --replace (issue 9 item 3)"
truncate_outputs
pg_harness_psql "DELETE FROM runs" || hard_error "cannot empty runs"
run replay -q --threshold 5 --sink "postgres:$PGH_URL" "$fixtures/spike.jsonl"
expect_rc 0 "replay into empty tables"
run dump "$PGH_URL"
cp "$tmp/out" "$tmp/t5.dump"
run replay -q --threshold 3 --sink "postgres:$PGH_URL" "$fixtures/spike.jsonl"
expect_rc 2 "replay into tables that hold rows, without --append or --replace"
grep -q -- "--append.*--replace" "$tmp/err" || fail "no hint at --append/--replace: $(cat "$tmp/err")"
no_secret "$tmp/err"
run dump "$PGH_URL"
cmp -s "$tmp/out" "$tmp/t5.dump" || fail "a refused replay changed the tables"
run replay -q --threshold 3 --replace --sink "postgres:$PGH_URL" "$fixtures/spike.jsonl"
expect_rc 0 "replay --replace"
run replay -q --threshold 3 -o "$tmp/t3.db" "$fixtures/spike.jsonl"
"$TELEMETRA" dump "$tmp/t3.db" >"$tmp/t3.dump"
run dump "$PGH_URL"
cmp -s "$tmp/out" "$tmp/t3.dump" || { fail "after --replace, PostgreSQL is not the threshold-3 run:"; diff "$tmp/t3.dump" "$tmp/out" | head; }
run replay -q --threshold 3 --append --sink "postgres:$PGH_URL" "$fixtures/spike.jsonl"
expect_rc 0 "replay --append of the same run"
run dump "$PGH_URL"
cmp -s "$tmp/out" "$tmp/t3.dump" || fail "--append of the same rows changed the dump"
got=$(pg_harness_psql "SELECT string_agg(command || ':' || mode || ':' || (finished_at IS NOT NULL)
	|| ':' || (host IS NOT NULL) || ':' || (pid > 0) || ':' || (updated_at IS NOT NULL), ' ' ORDER BY id) FROM runs")
[ "$got" = "replay:new:true:true:true:true replay:replace:true:true:true:true replay:append:true:true:true:true" ] ||
	fail "runs rows: $got"
# --replace is one transaction: a replace that fails leaves the old rows.
run replay -q --replace --sink "postgres:$PGH_URL" "$fixtures/spike.jsonl" "$tmp/no-such-file"
expect_rc 1 "replay --replace with a missing input"
run dump "$PGH_URL"
cmp -s "$tmp/out" "$tmp/t3.dump" || fail "a failed --replace lost the rows"
truncate_outputs

step "a replay larger than one batch streams into its transaction, memory bounded"
# 180,000 rows of 10 s windows sliding by 1 s: about 45 MB of COPY text,
# which the sink sends in 8 MB spills inside the run's one transaction.
# Without spilling, the PostgreSQL replay would hold it all; with it, its
# peak RSS stays near the SQLite replay's (which writes as it goes).
"$TELEMETRA" gen -q --seed 3 --streams 50 --duration 3600 --chat-rate 0.5 -o "$tmp/big.jsonl" ||
	hard_error "gen failed"
peak_rss() { sed -n 's/.*peak RSS \([0-9]*\)\.[0-9]* MB.*/\1/p' "$1"; }
"$TELEMETRA" replay --window 10 --slide 1 -o "$tmp/big.db" "$tmp/big.jsonl" 2>"$tmp/big-sqlite.err" ||
	fail "big replay into SQLite: $(cat "$tmp/big-sqlite.err")"
truncate_outputs
if ! timeout 300 "$TELEMETRA" replay --window 10 --slide 1 --sink "postgres:$PGH_URL" \
	"$tmp/big.jsonl" 2>"$tmp/big-pg.err"; then
	fail "big replay into PostgreSQL: $(cat "$tmp/big-pg.err")"
else
	"$TELEMETRA" dump "$tmp/big.db" >"$tmp/big-sqlite.dump"
	"$TELEMETRA" dump "$PGH_URL" >"$tmp/big-pg.dump"
	rows=$(sed -n 's/^# chat_summary_minute: \([0-9]*\) rows$/\1/p' "$tmp/big-pg.dump")
	[ "${rows:-0}" -ge 150000 ] || fail "big replay: only ${rows:-0} window rows"
	cmp -s "$tmp/big-sqlite.dump" "$tmp/big-pg.dump" ||
		fail "big replay: the PostgreSQL and SQLite dumps differ"
	sqlite_mb=$(peak_rss "$tmp/big-sqlite.err") pg_mb=$(peak_rss "$tmp/big-pg.err")
	echo "   $rows rows; peak RSS: SQLite $sqlite_mb MB, PostgreSQL $pg_mb MB"
	[ -n "$pg_mb" ] && [ -n "$sqlite_mb" ] || fail "big replay: no peak RSS in the summaries"
	# ASan's quarantine and shadow memory make RSS say nothing there.
	if ldd "$TELEMETRA" 2>/dev/null | grep -q libasan; then
		echo "   (sanitizer build: peak RSS not compared)"
	elif [ "${pg_mb:-999}" -gt $((${sqlite_mb:-0} + 24)) ]; then
		fail "big replay: PostgreSQL peak RSS $pg_mb MB against SQLite's $sqlite_mb MB"
	fi
fi

step "awkward rows dump the same from SQLite and PostgreSQL"
truncate_outputs
"$SINK_TEST" rows "sqlite:$tmp/rows.db" 2>"$tmp/rows.log" || fail "sink-test rows sqlite"
"$SINK_TEST" rows "postgres:$PGH_URL" 2>>"$tmp/rows.log" || fail "sink-test rows postgres"
grep -v '^ok' "$tmp/rows.log"
run dump "$tmp/rows.db"
mv "$tmp/out" "$tmp/rows.sqlite.dump"
run dump "$PGH_URL"
if ! diff -u "$tmp/rows.sqlite.dump" "$tmp/out" >"$tmp/rows.diff"; then
	fail "awkward rows dump differently:"
	cat "$tmp/rows.diff"
fi
lines=$(wc -l <"$tmp/out")
[ "$lines" -ge 125 ] || fail "the awkward dump has only $lines lines"
got=$(pg_harness_psql "SELECT records || ' ' || windows || ' ' || (finished_at IS NOT NULL)
	FROM runs WHERE command = 'sink-test'")
[ "$got" = "42 9 true" ] || fail "runs row of sink-test: $got"

step "checkpoints round trip (sink-test checkpoint), SQLite and PostgreSQL"
"$SINK_TEST" checkpoint "sqlite:$tmp/checkpoint.db" 2>"$tmp/cp.log" || fail "checkpoint sqlite"
"$SINK_TEST" checkpoint "postgres:$PGH_URL" 2>>"$tmp/cp.log" || fail "checkpoint postgres"
grep -v '^ok' "$tmp/cp.log"

step "a commit while the server is stopped keeps its batch (sink-test retry)"
mkfifo "$tmp/say" "$tmp/answer" || hard_error "mkfifo failed"
# Read-write opens do not block; sink-test's stdout is fd 3's fifo.
exec 3<>"$tmp/say" 4<>"$tmp/answer"
"$SINK_TEST" retry "$PGH_URL" "$SECRET" >"$tmp/say" <"$tmp/answer" 2>"$tmp/retry.log" 3>&- 4>&- &
child=$!
while :; do
	# shellcheck disable=SC2016 # $l is expanded by the inner sh
	word=$(timeout 120 sh -c 'IFS= read -r l && printf "%s\n" "$l"' <&3) ||
		hard_error "sink-test retry said nothing for 120 s: $(cat "$tmp/retry.log")"
	case $word in
	stop)
		pg_harness_stop_server || hard_error "pg_harness_stop_server failed"
		echo "(server stopped)"
		;;
	start)
		pg_harness_start_server || hard_error "pg_harness_start_server failed"
		echo "(server started)"
		;;
	done) ;;
	*) hard_error "sink-test retry said '$word'" ;;
	esac
	echo ok >&4
	[ "$word" != done ] || break
done
wait "$child" || fail "sink-test retry"
child=
exec 3>&- 4>&-
cat "$tmp/retry.log"
no_secret "$tmp/retry.log"

step "the cost of a commit (sink-test bench)"
"$SINK_TEST" bench "$PGH_URL" 2>"$tmp/bench.log" || fail "sink-test bench"
cat "$tmp/bench.log"

step "done: $failed failure(s)"
[ "$failed" -eq 0 ] || exit 1
exit 0
