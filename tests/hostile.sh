#!/bin/sh
# hostile.sh — the hostile-input table: inputs built to break telemetra,
# each replayed into SQLite and into PostgreSQL (tests/pg-harness.sh), with
# the dead letters checked by reason and count and the two dumps compared
# byte for byte.
#
# A case is one file, tests/hostile/NAME.case.  Its leading lines that
# start with '#' are the header; every line after them is the input,
# written verbatim to $IN.  Header lines are free text (say what the case
# is and which issue item it guards) except these keys:
#
#   # replay: ARGS      replay's arguments, shell words, expanded with $IN
#                       (the input) and $DIR (a scratch directory of the
#                       case); required.  The runner adds the output
#                       itself (-o FILE, or --sink postgres:URL after emptying
#                       the output tables).
#   # setup: COMMAND    shell run (eval) before replay, with IN and DIR set;
#                       may build inputs the file cannot hold (huge lines,
#                       long paths, binary bytes) and change IN.
#   # dead: R N, ...    the dead letters by reason exactly as replay's
#                       summary prints them ("not_json 2, bad_envelope 1"),
#                       or "none"; required.
#   # rows: N           the rows of dead_letters (default: the sum of dead)
#   # moments: N        the rows of moments (default: not checked)
#   # status: N         replay's exit status (default 0)
#
# To add a case: write NAME.case; run `make check TESTS=tests/hostile.sh`
# (or sh tests/hostile.sh NAME...), read what it says and fix the code, not
# the expectation, unless the expectation is wrong.  Without PostgreSQL
# binaries the SQLite half still runs.  POSIX sh.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
T=$TELEMETRA
cases=$top_srcdir/tests/hostile
failed=0
tmp=
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# PostgreSQL, when there is one: the harness exits 77 when sourced without
# binaries, so it is sourced in a subshell first to find out.
have_pg=no
if (. "$top_srcdir/tests/pg-harness.sh") >/dev/null 2>&1; then
	# shellcheck source=tests/pg-harness.sh
	. "$top_srcdir/tests/pg-harness.sh"
	have_pg=yes
fi
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap 'cleanup; [ "$have_pg" = no ] || pg_harness_cleanup' EXIT
trap 'exit 99' HUP INT TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hostile.XXXXXX") || exit 99
unset PGPASSWORD PGUSER PGHOST PGPORT PGDATABASE PGSERVICE POSTGRES_URL POSTGRES_USER \
	POSTGRES_PASSWORD
if [ "$have_pg" = yes ]; then
	pg_harness_start || { echo "pg_harness_start failed"; exit 99; }
else
	echo "(no PostgreSQL binaries: SQLite only)"
fi

# header KEY FILE: the value of "# KEY: ..." in the case's header.
header() {
	awk -v key="$1" '!/^#/ { exit } index($0, "# " key ": ") == 1 { print substr($0, length(key) + 5) }' "$2"
}

# breakdown ERRFILE: the "(reason N, ...)" of replay's summary, or "none".
breakdown() {
	sed -n 's/.* \([0-9]*\) dead letters\( (\(.*\))\)\{0,1\}; .*/\3/p' "$1" | sed 's/^$/none/'
}

# rows DUMP TABLE: the row count in the dump's section header.
rows() {
	sed -n "s/^# $2: \\([0-9]*\\) rows\$/\\1/p" "$1"
}

if [ $# -gt 0 ]; then
	list=
	for n in "$@"; do list="$list $cases/$n.case"; done
else
	list=$(ls "$cases"/*.case)
fi
n_cases=0
for case in $list; do
	name=$(basename "$case" .case)
	n_cases=$((n_cases + 1))
	DIR=$tmp/$name
	mkdir -p "$DIR"
	IN=$DIR/input.jsonl
	awk 'body || !/^#/ { body = 1; print }' "$case" >"$IN"
	args=$(header replay "$case")
	want_dead=$(header dead "$case")
	want_rows=$(header rows "$case")
	want_moments=$(header moments "$case")
	want_status=$(header status "$case")
	[ -n "$args" ] && [ -n "$want_dead" ] || { fail "$name: needs '# replay:' and '# dead:'"; continue; }
	if [ -z "$want_rows" ]; then
		want_rows=0
		for w in $(printf '%s\n' "$want_dead" | tr ',' '\n' | awk '{ print $2 }'); do
			want_rows=$((want_rows + w))
		done
	fi
	setup=$(header setup "$case")
	if [ -n "$setup" ]; then
		eval "$setup" || { fail "$name: setup failed"; continue; }
	fi
	eval "set -- $args"

	sinks="sqlite"
	[ "$have_pg" = no ] || sinks="sqlite postgres"
	for sink in $sinks; do
		case $sink in
		sqlite) out=$DIR/out.db ;;
		postgres) out=$PGH_URL ;;
		esac
		rc=0
		if [ "$sink" = sqlite ]; then
			timeout 120 "$T" replay -o "$out" "$@" >/dev/null 2>"$DIR/$sink.err" || rc=$?
		else
			pg_harness_psql "TRUNCATE chat_summary_minute, moments, dead_letters" >/dev/null 2>&1
			timeout 120 "$T" replay --sink "postgres:$out" "$@" >/dev/null 2>"$DIR/$sink.err" ||
				rc=$?
		fi
		if [ "$rc" != "${want_status:-0}" ]; then
			fail "$name ($sink): replay exited $rc, want ${want_status:-0}:"
			sed 's/^/    /' "$DIR/$sink.err" | head -5
			continue
		fi
		got=$(breakdown "$DIR/$sink.err")
		[ "$got" = "$want_dead" ] || fail "$name ($sink): dead letters '$got', want '$want_dead'"
		if ! timeout 60 "$T" dump "$out" >"$DIR/$sink.dump" 2>"$DIR/$sink.dump.err"; then
			fail "$name ($sink): dump failed: $(cat "$DIR/$sink.dump.err")"
			continue
		fi
		got=$(rows "$DIR/$sink.dump" dead_letters)
		[ "$got" = "$want_rows" ] || fail "$name ($sink): $got dead_letters rows, want $want_rows"
		if [ -n "$want_moments" ]; then
			got=$(rows "$DIR/$sink.dump" moments)
			[ "$got" = "$want_moments" ] || fail "$name ($sink): $got moments, want $want_moments"
		fi
	done
	if [ "$have_pg" = yes ] && [ -s "$DIR/sqlite.dump" ] && [ -s "$DIR/postgres.dump" ] &&
		! cmp -s "$DIR/sqlite.dump" "$DIR/postgres.dump"; then
		fail "$name: the SQLite and PostgreSQL dumps differ:"
		diff "$DIR/sqlite.dump" "$DIR/postgres.dump" | head -10 | cut -c1-300
	fi
	echo "done $name"
done
[ "$n_cases" -gt 0 ] || fail "no cases in $cases"
echo "$n_cases cases, $failed failure(s)"
[ "$failed" -eq 0 ] || exit 1
exit 0
