#!/bin/sh
# storage.sh — what the storage layer promises on the command line, without
# a database server (the PostgreSQL side is in tests/postgres.sh):
#
#   - one target parser: unknown schemes exit 2 with a hint, a password
#     never reaches a message (--sink, dump, report, migrate);
#   - replay -o never destroys what it was not asked to replace;
#   - what a killed run leaves is cleaned up, and dump reads a file that a
#     crash during --append left with a hot journal.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"
T=$TELEMETRA
SECRET=s3cret-4711

# expect_no_secret: the last expect's output holds no password.
no_secret() {
	if grep -q -e "$SECRET" "$tmp/out"; then
		fail "a password appears in the output of the last command:"
		sed 's/^/    /' "$tmp/out"
	fi
}

# --- targets (issue 9 item 15) ------------------------------------------------
expect 2 'unknown database scheme "mysql:"' $T replay -q --sink mysql://x "$fx/spike.jsonl"
[ -e mysql:/x ] || [ -e "mysql://x" ] && fail "--sink mysql://x created a file"
expect 2 'unknown database scheme' $T replay -q --sink "mysql://u:$SECRET@h/db" "$fx/spike.jsonl"
no_secret
expect 2 'unknown database scheme' $T dump "mysql://u:$SECRET@h/db"
no_secret
expect 2 'another database' $T dump "jdbc:mysql://h/db?password=$SECRET"
no_secret
# report reads PostgreSQL too: an unreachable one is a runtime error, named
# without its password.
expect 1 'PostgreSQL postgres://u:\*\*\*@127.0.0.1:1/db: cannot connect' $T report "postgres://u:$SECRET@127.0.0.1:1/db"
no_secret
expect 2 'unknown database scheme' $T report "mysql://u:$SECRET@h/db"
no_secret
expect 2 'after postgres: comes' $T migrate --postgres "mysql://u:$SECRET@h/db"
no_secret
expect 2 'use --sqlite PATH' $T migrate --postgres "sqlite:$tmp/m.db"
# The daemon must not wait forever for a database that cannot exist.
expect 2 'unknown database scheme' timeout 20 $T live --sink "mysql://u:$SECRET@h/db"
no_secret
expect 2 'after postgres: comes' timeout 20 $T live --postgres "mysql://u:$SECRET@h/db"
no_secret
# A postgres:// URL with user and password is a URL (it used to reach
# libpq as "//user:pass@host" and be echoed back).
expect 1 'PostgreSQL postgres://u:\*\*\*@127.0.0.1:1/db: cannot connect' \
	$T replay -q --sink "postgres://u:$SECRET@127.0.0.1:1/db" "$fx/spike.jsonl"
no_secret
expect 1 'PostgreSQL .*cannot connect' $T dump "host=127.0.0.1 port=1 password=$SECRET"
no_secret
$T replay -q --sink "sqlite:$tmp/colon:name.db" "$fx/spike.jsonl" || fail "--sink sqlite:NAME"
[ -s "$tmp/colon:name.db" ] || fail "--sink sqlite:NAME with a colon wrote no file"
expect 0 'chat_summary_minute: 11 rows' $T dump "sqlite:$tmp/colon:name.db"

# --- replay -o replaces only what it was asked to (item 2) -------------------
cp "$fx/spike.jsonl" "$tmp/cap.jsonl"
expect 2 "is also input" $T replay -q -o "$tmp/cap.jsonl" "$tmp/cap.jsonl"
cmp -s "$fx/spike.jsonl" "$tmp/cap.jsonl" || fail "replay -o INPUT INPUT changed the input"
expect 2 "is also input - (standard input)" sh -c "$T replay -q -o '$tmp/cap.jsonl' - <'$tmp/cap.jsonl'"
expect 2 "is also input" $T replay -q --force -o "$tmp/cap.jsonl" "$tmp/cap.jsonl"
expect 2 "is also input" $T replay -q --append -o "$tmp/cap.jsonl" "$tmp/cap.jsonl"
cmp -s "$fx/spike.jsonl" "$tmp/cap.jsonl" || fail "replay --force/--append -o INPUT changed it"
# Every other command that writes a file refuses to write it over what it
# reads: dump, report (the database, labels, decoys) and tune (logs, labels;
# -o and --best), also through a symbolic link.
$T replay -q -o "$tmp/in.db" "$fx/spike.jsonl" || fail "replay for the input-output checks"
cp "$tmp/in.db" "$tmp/in.keep"
ln -s "$tmp/in.db" "$tmp/in-link.db"
expect 2 "is also input" $T dump -o "$tmp/in.db" "$tmp/in.db"
expect 2 "is also input" $T dump -o "$tmp/in-link.db" "$tmp/in.db"
expect 2 "is also input" $T report -o "$tmp/in.db" "$tmp/in.db"
expect 2 "is also input" $T report -o "$tmp/cap.jsonl" --labels "$tmp/cap.jsonl" "$tmp/in.db"
cmp -s "$tmp/in.db" "$tmp/in.keep" || fail "dump/report -o INPUT changed the database"
expect 2 "is also input" $T tune -q -o "$tmp/cap.jsonl" "$tmp/cap.jsonl"
expect 2 "is also input" $T tune -q -o "$tmp/t.db" --labels "$tmp/cap.jsonl" --best "$tmp/cap.jsonl" "$tmp/cap.jsonl"
cmp -s "$fx/spike.jsonl" "$tmp/cap.jsonl" || fail "tune -o/--best INPUT changed the input"
printf 'my notes\n' >"$tmp/notes.txt"
expect 2 "is not a telemetra database" $T replay -q -o "$tmp/notes.txt" "$fx/spike.jsonl"
expect 2 "is not a telemetra database" $T replay -q --append -o "$tmp/notes.txt" "$fx/spike.jsonl"
[ "$(cat "$tmp/notes.txt")" = "my notes" ] || fail "replay -o replaced a text file"
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$tmp/other.db" "CREATE TABLE precious (x); INSERT INTO precious VALUES (1)"
	expect 2 "is not a telemetra database" $T replay -q -o "$tmp/other.db" "$fx/spike.jsonl"
	[ "$(sqlite3 "$tmp/other.db" "SELECT x FROM precious")" = 1 ] || fail "another SQLite file was replaced"
fi
expect 0 "" $T replay --force -o "$tmp/notes.txt" "$fx/spike.jsonl"
$T dump "$tmp/notes.txt" >/dev/null 2>&1 || fail "--force did not replace the text file"
mkfifo "$tmp/fifo"
expect 2 "is a FIFO" $T replay -q -o "$tmp/fifo" "$fx/spike.jsonl"
expect 2 "is a FIFO" $T replay -q --force -o "$tmp/fifo" "$fx/spike.jsonl"
[ -p "$tmp/fifo" ] || fail "the FIFO was replaced"
expect 2 "is a character device" $T replay -q --force -o /dev/null "$fx/spike.jsonl"
[ -c /dev/null ] || fail "/dev/null is gone"
expect 2 "is a directory" $T replay -q -o "$tmp" "$fx/spike.jsonl"
ln -s "$tmp/cap.jsonl" "$tmp/link"
expect 2 "is a symbolic link" $T replay -q --force -o "$tmp/link" "$fx/spike.jsonl"
: >"$tmp/empty"
$T replay -q -o "$tmp/empty" "$fx/spike.jsonl" || fail "replay -o EMPTY-FILE refused"
$T replay -q -o "$tmp/empty" "$fx/spike.jsonl" || fail "replay -o OUR-OUTPUT refused"
expect 2 "either --append or --replace" $T replay -q --append --replace -o "$tmp/x.db" "$fx/spike.jsonl"
if [ "$(id -u)" != 0 ]; then
	mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
	expect 1 "cannot write output $tmp/ro/out.db: directory $tmp/ro" \
		$T replay -q -o "$tmp/ro/out.db" "$fx/spike.jsonl"
	chmod 755 "$tmp/ro"
else
	echo "(running as root: the unwritable directory is not checked)"
fi

# --- debris of killed runs, and hot journals (item 12) ------------------------
# wait_for FILE: until FILE exists, at most 20 s.
wait_for() {
	_n=0
	while [ ! -e "$1" ] && [ "$_n" -lt 200 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	[ -e "$1" ]
}
# A replay that reads a FIFO is in the middle of its run until the FIFO
# closes: start one, and kill it with $1 once its scratch file exists.
killed_run() {
	rm -f "$tmp/in.fifo"
	mkfifo "$tmp/in.fifo"
	exec 3<>"$tmp/in.fifo"
	cat "$fx/spike.jsonl" >&3
	$T replay -q -o "$tmp/out.db" "$tmp/in.fifo" 2>"$tmp/killed.err" &
	pid=$!
	wait_for "$tmp/out.db.tmp-$pid" || fail "no scratch file $tmp/out.db.tmp-$pid"
	kill "-$1" "$pid"
	wait "$pid"
	status=$?
	exec 3>&-
}
$T replay -q -o "$tmp/out.db" "$fx/one_stream.jsonl" || fail "replay into out.db"
$T dump "$tmp/out.db" >"$tmp/before.dump"
for sig in INT TERM; do
	killed_run $sig
	[ "$status" -gt 128 ] || fail "SIG$sig: exit status $status"
	[ -e "$tmp/out.db.tmp-$pid" ] && fail "SIG$sig left $tmp/out.db.tmp-$pid"
	grep -q "previous one is untouched" "$tmp/killed.err" || fail "SIG$sig: $(cat "$tmp/killed.err")"
done
killed_run KILL
[ -e "$tmp/out.db.tmp-$pid" ] || fail "SIGKILL left no scratch file (the test did not kill mid-run)"
dead=$pid
# A scratch file of a live process (this shell) is not touched.
: >"$tmp/out.db.tmp-$$"
expect 0 "removed $tmp/out.db.tmp-$dead, left by process $dead" $T replay -o "$tmp/out.db" "$fx/one_stream.jsonl"
[ -e "$tmp/out.db.tmp-$dead" ] && fail "the next run did not remove $tmp/out.db.tmp-$dead"
[ -e "$tmp/out.db.tmp-$$" ] || fail "the next run removed the scratch file of a live process"
$T dump "$tmp/out.db" >"$tmp/after.dump"
cmp -s "$tmp/before.dump" "$tmp/after.dump" || fail "out.db changed through the killed runs"

# A crash during --append leaves a hot journal; dump rolls it back and
# reads the last committed state.  (The crash is simulated exactly: the
# database and its journal copied while a transaction is half written.)
if command -v python3 >/dev/null 2>&1; then
	python3 - "$tmp/out.db" "$tmp/crash.db" <<'PY' || fail "could not make a hot journal"
import shutil, sqlite3, sys
db, crash = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA cache_size = 1")  # spill to the file: half-written pages
con.execute("BEGIN")
con.execute("DELETE FROM chat_summary_minute")
con.execute("UPDATE moments SET description = 'half-written'")
shutil.copy(db, crash)
shutil.copy(db + "-journal", crash + "-journal")
con.execute("ROLLBACK")
PY
	expect 0 "rolled back" $T dump -o "$tmp/crash.dump" "$tmp/crash.db"
	cmp -s "$tmp/before.dump" "$tmp/crash.dump" || fail "the dump after a crash is not the committed state"
	$T replay -q --append -o "$tmp/crash.db" "$fx/spike.jsonl" || fail "--append after the crash"
fi

# --- migration 003 keeps the dead letters already there ------------------------
if command -v sqlite3 >/dev/null 2>&1; then
	{
		cat "$top_srcdir/sql/sqlite/001_initial.sql" "$top_srcdir/sql/sqlite/002_checkpoint.sql"
		echo "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
			applied_at TEXT NOT NULL);
		INSERT INTO schema_version VALUES (1, 'initial', 'x'), (2, 'checkpoint', 'x');
		INSERT INTO dead_letters (source, partition, position, reason, detail, raw)
			VALUES ('$tmp/old.jsonl', -1, 1, 'not_json', 'old', X'6f6c64');"
	} | sqlite3 "$tmp/v2.db" || fail "cannot build a version 2 database"
	expect 0 "schema at version 4: applied 2 migrations" $T migrate --sqlite "$tmp/v2.db"
	expect 0 "# dead_letters: 1 rows" $T dump "$tmp/v2.db"
	printf 'not json\n{"type":"chat","stream_id":"s","user_id":"u","message":"ok","timestamp":"2025-11-23T12:00:00Z"}\n' >"$tmp/old.jsonl"
	$T replay -q --append -o "$tmp/v2.db" "$tmp/old.jsonl" || fail "--append into a migrated database"
	# The same place read again by a later run rewrites its row.
	expect 0 "# dead_letters: 1 rows" $T dump "$tmp/v2.db"
	[ "$(sqlite3 "$tmp/v2.db" "SELECT length(source_key), occurrence FROM dead_letters")" = "64|0" ] ||
		fail "migrated dead letter key: $(sqlite3 "$tmp/v2.db" "SELECT source_key, occurrence FROM dead_letters")"
fi

# --- a fresh file's window indexes are built after its rows (issue 9 item 9) ---
# The schema must end exactly as the migrations make it, the file sound, and
# the rows (ids, values, the AUTOINCREMENT counter) those the upserts of
# --append write, also when a stream arriving on two partitions gives two
# rows one key (the first row's id keeps the last row's values).
if command -v sqlite3 >/dev/null 2>&1; then
	schema() { sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"; }
	rows() {
		sqlite3 "$1" "SELECT * FROM chat_summary_minute ORDER BY id" | cut -d'|' -f1-14
		sqlite3 "$1" "SELECT * FROM sqlite_sequence WHERE name = 'chat_summary_minute'"
	}
	env=telemetra.events.chat
	{
		printf '{"topic":"%s","partition":0,"offset":0,"value":"{\\"timestamp\\":1763899200000,\\"stream_id\\":\\"s0\\",\\"user_id\\":\\"u0\\",\\"message\\":\\"hi :)\\"}"}\n' $env
		printf '{"topic":"%s","partition":1,"offset":0,"value":"{\\"timestamp\\":1763899205000,\\"stream_id\\":\\"s0\\",\\"user_id\\":\\"u1\\",\\"message\\":\\"bad\\"}"}\n' $env
		printf '{"topic":"%s","partition":1,"offset":1,"value":"{\\"timestamp\\":1763899206000,\\"stream_id\\":\\"s0\\",\\"user_id\\":\\"u2\\",\\"message\\":\\"bad\\"}"}\n' $env
		printf '{"topic":"%s","partition":0,"offset":1,"value":"{\\"timestamp\\":1763899300000,\\"stream_id\\":\\"s1\\",\\"user_id\\":\\"u0\\",\\"message\\":\\"hi\\"}"}\n' $env
	} >"$tmp/twice.jsonl"
	$T migrate --sqlite "$tmp/migrated.db" >/dev/null || fail "migrate --sqlite"
	for input in "$fx/spike.jsonl" "$tmp/twice.jsonl"; do
		rm -f "$tmp/fresh.db" "$tmp/upserted.db"
		$T replay -q -o "$tmp/fresh.db" "$input" 2>/dev/null || fail "replay $input"
		cp "$tmp/migrated.db" "$tmp/upserted.db"
		$T replay -q --append -o "$tmp/upserted.db" "$input" 2>/dev/null || fail "replay --append $input"
		[ "$(schema "$tmp/fresh.db")" = "$(schema "$tmp/migrated.db")" ] ||
			fail "$input: the schema of a fresh output is not the migrations' schema"
		[ "$(sqlite3 "$tmp/fresh.db" "PRAGMA integrity_check")" = ok ] ||
			fail "$input: integrity_check: $(sqlite3 "$tmp/fresh.db" "PRAGMA integrity_check" | head -3)"
		[ -n "$(rows "$tmp/fresh.db")" ] && [ "$(rows "$tmp/fresh.db")" = "$(rows "$tmp/upserted.db")" ] ||
			fail "$input: window rows of a fresh output differ from the upserted ones"
		# The unique key is there: a second --append rewrites, adds nothing.
		$T replay -q --append -o "$tmp/fresh.db" "$input" 2>/dev/null || fail "replay --append on a fresh output"
		[ "$(sqlite3 "$tmp/fresh.db" "SELECT count(*) FROM chat_summary_minute")" = \
			"$(sqlite3 "$tmp/upserted.db" "SELECT count(*) FROM chat_summary_minute")" ] ||
			fail "$input: --append onto a fresh output added rows"
	done
	[ "$(sqlite3 "$tmp/upserted.db" "SELECT count(*) FROM chat_summary_minute")" = 12 ] ||
		fail "the two-partition input should give 12 rows"
fi

[ "$failures" -eq 0 ] || exit 1
