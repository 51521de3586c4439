# shellcheck shell=sh
# tests/lib.sh — assertions shared by the command-line test scripts.
# Source it after setting $tmp (a scratch directory); then
#   fail MESSAGE                      count a failure and say what it was
#   ok MESSAGE                        say what passed
#   expect STATUS PATTERN COMMAND...  run COMMAND, check its exit status and
#                                     that PATTERN appears in stdout+stderr
# and finish with: [ "$failures" -eq 0 ] || exit 1

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*" | cut -c1-110; }

expect() {
	want=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		fail "'$*' exited $got, want $want"; sed 's/^/    /' "$tmp/out" | head -5
	elif ! grep -q -e "$pattern" "$tmp/out"; then
		fail "'$*': output lacks /$pattern/"; sed 's/^/    /' "$tmp/out" | head -5
	else
		ok "$want  $*"
	fi
}

# --- the integration harness: mock Kafka, PostgreSQL, daemons -------------------
# For the suites that run the live daemon against real servers (live, ops,
# capture, kcat).  Source tests/pg-harness.sh and this file, then:
#   harness_begin NAME       $tmp (a new directory), TELEMETRA/T, fx, KAFKA_MOCK,
#                            PRODUCE, and a trap that at exit kills the daemons
#                            listed in $pids, calls harness_on_exit if the suite
#                            defines one, stops the mock cluster, removes $tmp
#                            and stops PostgreSQL
#   harness_postgres         start PostgreSQL: PSQL, super SQL (as the superuser),
#                            db_url DB, new_db DB, sql_in DB QUERY
#   harness_kafka PARTITIONS start the mock cluster: BS, mock COMMAND
#   committed DB [GROUP]     records committed: the sum of the next offsets
#   wait_for WHAT SECONDS COMMAND...   poll COMMAND, fail after SECONDS
#   live_until DB GROUP N LOG [OPTIONS...]   a daemon from the earliest offsets
#                            until N records are committed, then SIGTERM: exit 0
hard_error() { echo "ERROR: $*"; exit 99; }
step() { echo "== $*"; }

harness_begin() {
	: "${TELEMETRA:=$PWD/src/telemetra}"
	: "${top_builddir:=$PWD}"
	T=$TELEMETRA
	KAFKA_MOCK=$top_builddir/tests/kafka-mock
	PRODUCE=$top_builddir/tests/kafka-produce
	fx=$top_srcdir/fixtures
	tmp= mock_pid= pids=
	trap 'harness_cleanup; pg_harness_cleanup' EXIT # pg-harness.sh reads its name here
	trap 'exit 99' HUP INT TERM
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1-test.XXXXXX") || hard_error "no temp dir"
}

harness_cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	command -v harness_on_exit >/dev/null 2>&1 && harness_on_exit
	if [ -n "$mock_pid" ]; then
		printf 'quit\n' >&3 2>/dev/null
		kill "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}

harness_postgres() {
	pg_harness_start || hard_error "cannot start PostgreSQL"
	PSQL=$PGH_BINDIR/psql
	: "${SECRET:=telemetra-secret}"
}
super() { # run SQL as the superuser, over the harness's socket
	timeout 30 "$PSQL" -X -w -q -A -t -v ON_ERROR_STOP=1 -h "$PGH_SOCKDIR" -p "$PGH_PORT" \
		-U postgres -d postgres -c "$1"
}
db_url() { echo "postgresql://telemetra:$SECRET@127.0.0.1:$PGH_PORT/$1"; }
new_db() { super "CREATE DATABASE $1 OWNER telemetra" >/dev/null || hard_error "CREATE DATABASE $1"; }
sql_in() { # sql_in DB QUERY
	PGPASSFILE=/dev/null timeout 30 "$PSQL" -X -w -q -A -t -v ON_ERROR_STOP=1 -d "$(db_url "$1")" \
		-c "$2" 2>/dev/null
}
committed() { # committed DB [GROUP]
	sql_in "$1" "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets${2:+ WHERE consumer_group = '$2'}"
}

harness_kafka() {
	mkfifo "$tmp/mock.in" "$tmp/mock.out" || hard_error "mkfifo"
	exec 3<>"$tmp/mock.in" 4<>"$tmp/mock.out"
	"$KAFKA_MOCK" --partitions "$1" <"$tmp/mock.in" >"$tmp/mock.out" 2>"$tmp/mock.err" 3>&- 4>&- &
	mock_pid=$!
	read_reply 15 || hard_error "kafka-mock did not start"
	BS=${reply#bootstrap=}
}
read_reply() { # a line from the mock cluster, within $1 seconds
	# shellcheck disable=SC2016
	reply=$(timeout "$1" sh -c 'IFS= read -r l && printf "%s\n" "$l"' <&4)
}
mock() { printf '%s\n' "$1" >&3 && read_reply 10 && [ "$reply" = ok ] || fail "kafka-mock '$1': '$reply'"; }

wait_for() {
	what=$1 deadline=$(( $(date +%s) + $2 ))
	shift 2
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || { fail "timed out waiting for $what"; return 1; }
		sleep 0.2
	done
}

live_until() {
	db=$1 group=$2 n=$3 log=$4
	shift 4
	"$T" live --brokers "$BS" --postgres "$(db_url "$db")" --group "$group" --offset-reset earliest \
		--trigger 0.2 --idle-timeout 3600 -X session.timeout.ms=6000 "$@" >>"$log" 2>&1 &
	daemon=$!
	pids="$pids $daemon"
	at_least() { [ "$(committed "$db")" -ge "$n" ] 2>/dev/null; }
	wait_for "the daemon to commit $n records" 120 at_least || { tail "$log"; hard_error "the daemon did not commit $n"; }
	kill -TERM "$daemon"
	wait "$daemon" || fail "the daemon exited $? on SIGTERM"
	pids=${pids% "$daemon"} # gone: its number may be another's by exit
}
