#!/bin/sh
# harness-smoke.sh — smoke test of the integration-test harness:
# tests/pg-harness.sh (a throwaway PostgreSQL server) and tests/kafka-mock
# (librdkafka's mock Kafka cluster), driven with psql and kcat.
#
# Automake test protocol: 0 pass, 1 fail, 77 skip, 99 hard error. POSIX sh
# (make check runs .sh tests with $(SHELL)). Builds nothing: runs the
# kafka-mock binary $KAFKA_MOCK (default $top_builddir/tests/kafka-mock,
# i.e. ./tests/kafka-mock from the build directory). Works as root (the
# server then runs as the postgres user) and as any other user.
#
# Every wait is bounded: kcat and psql run under timeout(1), answers from
# kafka-mock are read under timeout(1) too.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
KAFKA_MOCK=${KAFKA_MOCK:-${top_builddir:-.}/tests/kafka-mock}
CHAT=telemetra.events.chat
VIEWER=telemetra.events.viewer
t0=$(date +%s)

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
hard_error() {
	echo "ERROR: $*" >&2
	exit 99
}
step() {
	echo "== [$(($(date +%s) - t0))s] $*"
}

# shellcheck source=tests/pg-harness.sh
. "$top_srcdir/tests/pg-harness.sh"

if ! command -v kcat >/dev/null 2>&1; then
	echo "SKIP: kcat not found; install the kcat package"
	exit 77
fi
command -v timeout >/dev/null 2>&1 ||
	hard_error "timeout (coreutils) not found"
[ -x "$KAFKA_MOCK" ] ||
	hard_error "kafka-mock not found at $KAFKA_MOCK; build it (make" \
		"tests/kafka-mock) or set KAFKA_MOCK"

tmp=
mock_pid=
# shellcheck disable=SC2317 # called from the EXIT trap
smoke_cleanup() {
	if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
		kill -TERM "$mock_pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$mock_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$mock_pid" 2>/dev/null
		wait "$mock_pid" 2>/dev/null
	fi
	if [ -n "$tmp" ]; then
		if [ -s "$tmp/mock.err" ]; then
			echo "--- kafka-mock stderr:"
			sed 's/^/    /' "$tmp/mock.err"
		fi
		rm -rf "$tmp"
	fi
}
# The EXIT trap must name pg_harness_cleanup (pg_harness_start checks).
trap 'smoke_cleanup; pg_harness_cleanup' EXIT
trap 'exit 99' HUP INT TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/harness-smoke.XXXXXX") ||
	hard_error "cannot create a temp dir in ${TMPDIR:-/tmp}"

# Is $1 exactly the lines $2, $3, ...?
lines_are() {
	_got=$1
	shift
	[ "$_got" = "$(printf '%s\n' "$@")" ]
}

# --- PostgreSQL ---------------------------------------------------------------

step "start PostgreSQL"
pg_harness_start || hard_error "pg_harness_start failed (see above)"
echo "PGH_URL=$PGH_URL PGH_DIR=$PGH_DIR"
PSQL=$PGH_BINDIR/psql

# psql over TCP with a URL: never prompts, no ~/.pgpass, no ~/.psqlrc.
q() {
	PGPASSFILE="$tmp/no-such-pgpass" timeout 30 "$PSQL" -X -w -q -A -t \
		-v ON_ERROR_STOP=1 -d "$@"
}

out=$(q "$PGH_URL" -c 'SELECT 1') || fail "SELECT 1 through PGH_URL failed"
[ "$out" = 1 ] || fail "SELECT 1 through PGH_URL returned '$out'"

out=$(q "$PGH_URL" -c 'SELECT current_user, current_database()') ||
	fail "query through PGH_URL failed"
[ "$out" = "telemetra|telemetra" ] ||
	fail "expected role and database telemetra, got '$out'"

if out=$(env -u PGPASSWORD PGPASSFILE="$tmp/no-such-pgpass" \
	timeout 30 "$PSQL" -X -w -Atc 'SELECT 1' -d "$PGH_URL_NOPASS" 2>&1); then
	fail "PGH_URL_NOPASS connected without a password: '$out'"
fi
case $out in
*"no password supplied"*) ;;
*) fail "PGH_URL_NOPASS without password: unexpected error '$out'" ;;
esac
out=$(PGPASSWORD=telemetra-secret q "$PGH_URL_NOPASS" -c 'SELECT 2') ||
	fail "PGH_URL_NOPASS with PGPASSWORD failed"
[ "$out" = 2 ] || fail "PGH_URL_NOPASS with PGPASSWORD returned '$out'"
if PGPASSWORD=wrong q "$PGH_URL_NOPASS" -c 'SELECT 3' >/dev/null 2>&1; then
	fail "a wrong password was accepted"
fi

out=$(pg_harness_psql "SHOW listen_addresses" "SHOW fsync") ||
	fail "pg_harness_psql SHOW failed"
lines_are "$out" 127.0.0.1 off ||
	fail "expected listen_addresses 127.0.0.1 and fsync off, got '$out'"

pg_harness_psql "CREATE TABLE smoke (v text)" \
	"INSERT INTO smoke VALUES ('kept across restart')" ||
	fail "CREATE TABLE / INSERT as telemetra failed"

step "stop PostgreSQL"
pg_harness_stop_server || hard_error "pg_harness_stop_server failed"
if q "$PGH_URL" -c 'SELECT 1' >/dev/null 2>&1; then
	fail "PostgreSQL still answers after pg_harness_stop_server"
fi

step "start PostgreSQL again on port $PGH_PORT"
pg_harness_start_server || hard_error "pg_harness_start_server failed"
out=$(q "$PGH_URL" -c 'SELECT 1') || fail "SELECT 1 after restart failed"
[ "$out" = 1 ] || fail "SELECT 1 after restart returned '$out'"
out=$(pg_harness_psql "SELECT v FROM smoke") ||
	fail "SELECT from table after restart failed"
[ "$out" = "kept across restart" ] ||
	fail "data not kept across restart: '$out'"

# --- Kafka mock cluster -------------------------------------------------------

step "start kafka-mock ($KAFKA_MOCK)"
# Two fifos, opened read-write on our side (fd 3: its stdin, fd 4: its
# stdout) so that no open() blocks; kafka-mock does not inherit fds 3, 4.
mkfifo "$tmp/mock.in" "$tmp/mock.out" || hard_error "mkfifo failed in $tmp"
exec 3<>"$tmp/mock.in" 4<>"$tmp/mock.out"
"$KAFKA_MOCK" <"$tmp/mock.in" >"$tmp/mock.out" 2>"$tmp/mock.err" 3>&- 4>&- &
mock_pid=$!

# Read one line from kafka-mock into $reply, waiting at most $1 seconds.
# The shell's read builtin takes one byte at a time from a fifo, so it
# consumes exactly one line.
read_reply() {
	# shellcheck disable=SC2016 # $l is expanded by the inner sh
	reply=$(timeout "$1" sh -c 'IFS= read -r l && printf "%s\n" "$l"' <&4)
}

read_reply 15 || hard_error "no bootstrap line from kafka-mock within 15 s"
printf '%s\n' "$reply" |
	grep -Eq '^bootstrap=127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$' ||
	fail "unexpected first line from kafka-mock: '$reply'"
BS=${reply#bootstrap=}
echo "bootstrap servers: $BS"

# Send one command to kafka-mock; its answer goes to $reply.
mock_cmd() {
	printf '%s\n' "$1" >&3 || hard_error "cannot write '$1' to kafka-mock"
	read_reply 10 ||
		hard_error "no answer from kafka-mock to '$1' within 10 s"
}
expect_ok() {
	mock_cmd "$1"
	[ "$reply" = ok ] ||
		fail "kafka-mock '$1' answered '$reply', expected ok"
}
expect_error() {
	mock_cmd "$1"
	case $reply in
	error:*) ;;
	*) fail "kafka-mock '$1' answered '$reply', expected error: ..." ;;
	esac
}

# kcat -L with a bounded metadata timeout (-m seconds).
metadata() {
	timeout 30 kcat -b "$BS" -L -m "${1:-10}" 2>"$tmp/kcat.err"
}

step "metadata"
md=$(metadata) || fail "kcat -L failed: $(tail -n 3 "$tmp/kcat.err")"
printf '%s\n' "$md" | grep -q '^ 3 brokers:' ||
	fail "expected 3 brokers in: $md"
for t in $CHAT $VIEWER; do
	printf '%s\n' "$md" | grep -q "^  topic \"$t\" with 4 partitions:" ||
		fail "expected topic $t with 4 partitions in: $md"
done

step "produce keyed messages to $CHAT"
nonce=$$-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
key=stream-smoke-$nonce
v1=hello-$nonce
v2=again-$nonce
printf '%s:%s\n%s:%s\n' "$key" "$v1" "$key" "$v2" |
	timeout 30 kcat -b "$BS" -P -t "$CHAT" -K: -X message.timeout.ms=10000 ||
	fail "kcat produce to $CHAT failed"

step "consume them back"
out=$(timeout 30 kcat -b "$BS" -C -t "$CHAT" -o beginning -e -q -K: \
	-f '%p %k:%s\n') || fail "kcat consume from $CHAT failed"
p=${out%% *}
lines_are "$out" "$p $key:$v1" "$p $key:$v2" ||
	fail "expected both messages, same key, same partition, in order;" \
		"got: '$out'"

step "consumer group: join, consume, commit, resume"
# The mock coordinator waits session.timeout.ms - 1 s before it completes
# a rebalance after a member left, hence a short session timeout. No -o:
# with -G, kcat applies -o to every assignment, overriding commits.
group_consume() {
	timeout 60 kcat -b "$BS" -G smoke-group -X session.timeout.ms=6000 \
		-X auto.offset.reset=earliest -e -q -f '%k:%s\n' "$CHAT"
}
out=$(group_consume) || fail "kcat -G (first member) failed"
lines_are "$out" "$key:$v1" "$key:$v2" ||
	fail "group consumer got '$out', expected both messages"
out=$(group_consume) || fail "kcat -G (second member) failed"
[ -z "$out" ] ||
	fail "committed offsets not honoured: group consumer got '$out' again"

step "bad commands are answered with errors"
expect_error "down 99"
expect_error "down 0"
expect_error "frobnicate"
expect_error "up"

step "one broker down: metadata from the others"
expect_ok "down 2"
md=$(metadata) || fail "kcat -L with broker 2 down failed"
printf '%s\n' "$md" | grep -q '^ 3 brokers:' ||
	fail "expected 3 brokers in: $md"
expect_ok "up 2"

step "all brokers down: metadata must fail"
expect_ok "down all"
if md=$(metadata 3); then
	fail "kcat -L succeeded with all brokers down: $md"
fi
echo "kcat -L failed as expected: $(tail -n 1 "$tmp/kcat.err")"

step "all brokers up: metadata works again"
expect_ok "up all"
ok=
for _ in 1 2 3 4 5; do
	if md=$(metadata 5); then
		ok=1
		break
	fi
done
[ -n "$ok" ] ||
	fail "kcat -L still failing after up all: $(tail -n 3 "$tmp/kcat.err")"
out=$(timeout 30 kcat -b "$BS" -C -t "$CHAT" -o beginning -e -q -K: \
	-f '%k:%s\n') || fail "kcat consume after up all failed"
lines_are "$out" "$key:$v1" "$key:$v2" ||
	fail "messages not kept across down/up: '$out'"

step "quit"
expect_ok quit
for _ in $(seq 100); do
	kill -0 "$mock_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$mock_pid" 2>/dev/null; then
	fail "kafka-mock still running 10 s after quit"
fi
wait "$mock_pid"
rc=$?
mock_pid=
[ "$rc" = 0 ] || fail "kafka-mock exited with status $rc after quit"
exec 3>&- 4<&-

step "pass"
exit 0
