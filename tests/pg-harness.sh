# shellcheck shell=sh
# tests/pg-harness.sh — a throwaway PostgreSQL server for integration tests.
#
# POSIX sh (works when sourced from sh/dash or bash). Source it, never run it:
#
#     . "${srcdir:-.}/tests/pg-harness.sh"
#     trap 'pg_harness_cleanup' EXIT     # required, see "Cleanup" below
#     trap 'exit 99' HUP INT TERM        # so that signals run the EXIT trap
#     pg_harness_start || exit 99
#     psql "$PGH_URL" -c 'SELECT 1'
#     pg_harness_psql "SELECT count(*) FROM t"   # unaligned, tuples only
#     pg_harness_stop_server               # PostgreSQL down, data kept
#     pg_harness_start_server || exit 99   # same port again, waits until ready
#
# pg_harness_start creates a new cluster in a fresh directory (mktemp -d)
# listening on 127.0.0.1 only, on a free port, with its unix socket inside
# that directory and fsync off, and exports:
#
#     PGH_DIR         the temp dir (data/, sock/, server.log, initdb.log)
#     PGH_PORT        the TCP port
#     PGH_URL         postgresql://telemetra:telemetra-secret@127.0.0.1:PORT/telemetra
#     PGH_URL_NOPASS  postgresql://telemetra@127.0.0.1:PORT/telemetra
#     PGH_LOG         the server log
#     PGH_SOCKDIR     the unix socket directory; the superuser `postgres`
#                     connects there without password (psql -h "$PGH_SOCKDIR"
#                     -p "$PGH_PORT" -U postgres); over TCP only the role
#                     telemetra may connect, with its password (scram-sha-256)
#
# As root the server runs as the `postgres` system user (PostgreSQL refuses
# to run as root), otherwise as the current user. If the PostgreSQL binaries
# cannot be found the sourcing script exits 77 (automake: SKIP). They are
# looked for in $PG_BINDIR, `pg_config --bindir`, the newest
# /usr/lib/postgresql/*/bin, then $PATH.
#
# Errors: functions print one line `pg-harness: ...` on stderr (plus the tail
# of the server log when the server does not start) and return non-zero.
#
# Cleanup: the harness sets no trap itself, so it cannot clobber yours. The
# sourcing script must call pg_harness_cleanup from its EXIT trap, and the
# trap's text must name it, e.g. trap 'my_cleanup; pg_harness_cleanup' EXIT
# (a function that calls it is not enough: the check reads `trap` output).
# pg_harness_start refuses to start a server otherwise, so that a forgotten
# trap cannot leak servers. pg_harness_cleanup stops the server (immediate
# mode) and removes PGH_DIR; it is idempotent and does not change $?. Set
# PGH_KEEP=1 to keep PGH_DIR for a post-mortem. Only the shell that called
# pg_harness_start can stop or clean up its server (a nested test script
# inheriting PGH_* cannot). A script killed by SIGKILL leaks its server:
# nothing can run on SIGKILL.

_pgh_err() {
	printf 'pg-harness: %s\n' "$*" >&2
}

# Find the server binaries; exit 77 (SKIP) when there are none.
_pgh_find_bindir() {
	_pgh_bindir=
	if [ -n "${PG_BINDIR:-}" ]; then
		_pgh_bindir=$PG_BINDIR
	elif command -v pg_config >/dev/null 2>&1 &&
	    [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
		_pgh_bindir=$(pg_config --bindir)
	else
		_pgh_bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin |
			sort -t/ -k5,5n | tail -n 1)
		if [ ! -x "$_pgh_bindir/initdb" ] &&
		    command -v initdb >/dev/null 2>&1; then
			_pgh_bindir=$(dirname "$(command -v initdb)")
		fi
	fi
	for _pgh_b in initdb pg_ctl postgres pg_isready psql; do
		if [ ! -x "$_pgh_bindir/$_pgh_b" ]; then
			_pgh_err "SKIP: PostgreSQL server program $_pgh_b not found" \
				"(looked in PG_BINDIR, pg_config --bindir," \
				"/usr/lib/postgresql/*/bin, PATH); install the" \
				"postgresql package or set PG_BINDIR"
			exit 77
		fi
	done
	PGH_BINDIR=$_pgh_bindir
}

# Run a server program as the server user, from inside PGH_DIR (the server
# user may not be allowed into the caller's working directory).
_pgh_as_server() {
	if [ -n "$_pgh_runas" ]; then
		(cd "$PGH_DIR" && runuser -u "$_pgh_runas" -- "$@")
	else
		(cd "$PGH_DIR" && "$@")
	fi
}

# psql as the superuser over the unix socket (no password); SQL on stdin.
_pgh_admin_psql() {
	"$PGH_BINDIR/psql" -X -q -w -A -t -v ON_ERROR_STOP=1 \
		-h "$PGH_SOCKDIR" -p "$PGH_PORT" -U postgres -d postgres
}

# Print the last lines of the server log, indented, on stderr.
_pgh_log_tail() {
	if [ -s "$1" ]; then
		_pgh_err "last lines of $1:"
		tail -n 15 "$1" | sed 's/^/    /' >&2
	fi
}

# Is something listening on TCP port $1? (Linux /proc; answers "no" when it
# cannot tell, a bind failure is then caught by _pgh_start_on_port.)
_pgh_port_busy() {
	_pgh_hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$_pgh_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
			END { exit !f }'
}

# A random port in 20000..31999: below Linux's ephemeral range (32768+),
# so it does not collide with ports the kernel hands out to other tests.
_pgh_random_port() {
	_pgh_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + _pgh_r % 12000))
}

# Write the harness settings for port $1 (included from postgresql.conf).
_pgh_write_conf() {
	# Quote for a postgresql.conf string: double any single quote.
	_pgh_q=$(printf '%s' "$PGH_SOCKDIR" | sed "s/'/''/g")
	cat >"$PGH_DIR/data/pg-harness.conf" <<EOF
# written by tests/pg-harness.sh
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$_pgh_q'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] '
lc_messages = 'C'
EOF
	[ -z "$_pgh_runas" ] || chown "$_pgh_runas:" "$PGH_DIR/data/pg-harness.conf"
}

# Start the server on port $1 and wait until it accepts TCP connections.
# Returns 0 when ready, 2 when the port was taken, 1 on other failures
# (after printing why).
_pgh_start_on_port() {
	_pgh_write_conf "$1" || return 1
	# The server appends to PGH_LOG; what this start adds begins here.
	_pgh_logsize=$(wc -c <"$PGH_LOG")
	# pg_ctl -w itself polls until the server is ready, for at most -t s.
	if ! _pgh_as_server "$PGH_BINDIR/pg_ctl" -D "$PGH_DIR/data" \
		-l "$PGH_LOG" -w -t 60 -s start >/dev/null 2>&1; then
		tail -c +$((_pgh_logsize + 1)) "$PGH_LOG" >"$PGH_DIR/start.log"
		# pg_ctl may have given up on a server still starting.
		_pgh_as_server "$PGH_BINDIR/pg_ctl" -D "$PGH_DIR/data" \
			-m immediate -w -s stop >/dev/null 2>&1
		if grep -q 'could not bind' "$PGH_DIR/start.log"; then
			return 2
		fi
		_pgh_err "PostgreSQL did not start on 127.0.0.1:$1" \
			"(data directory $PGH_DIR/data, log $PGH_LOG);" \
			"see the log below"
		_pgh_log_tail "$PGH_DIR/start.log"
		return 1
	fi

	# Bounded polling over TCP, the way clients will reach it.
	_pgh_i=0
	while ! "$PGH_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$1" \
		-U telemetra -d telemetra -t 2 >/dev/null 2>&1; do
		_pgh_i=$((_pgh_i + 1))
		if [ "$_pgh_i" -ge 100 ]; then
			_pgh_err "PostgreSQL started but 127.0.0.1:$1 does not" \
				"accept connections after 100 attempts (log" \
				"$PGH_LOG); see the log below"
			_pgh_log_tail "$PGH_LOG"
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# The shell that started the server owns it. PGH_* are exported, so a
# nested test script inherits them; it must not stop or remove the server
# of its parent, and may start its own.
_pgh_owned() {
	[ -n "${PGH_DIR:-}" ] && [ "${_pgh_owner:-}" = "$$" ]
}

pg_harness_start() {
	if _pgh_owned; then
		_pgh_err "pg_harness_start: already started ($PGH_DIR);" \
			"call pg_harness_cleanup first"
		return 1
	fi
	_pgh_find_bindir

	_pgh_runas=
	if [ "$(id -u)" = 0 ]; then
		if ! id -u postgres >/dev/null 2>&1; then
			_pgh_err "running as root but there is no 'postgres'" \
				"user to run PostgreSQL as; create it or run" \
				"the tests as a non-root user"
			return 1
		fi
		if ! command -v runuser >/dev/null 2>&1; then
			_pgh_err "running as root but runuser (util-linux) is" \
				"missing; install it or run the tests as a" \
				"non-root user"
			return 1
		fi
		_pgh_runas=postgres
	fi

	PGH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pg-harness.XXXXXX") || {
		_pgh_err "cannot create a temp dir in ${TMPDIR:-/tmp};" \
			"check TMPDIR"
		PGH_DIR=
		return 1
	}
	: >"$PGH_DIR/.pg-harness" # marks the dir as ours for cleanup
	_pgh_owner=$$
	export PGH_DIR

	# Refuse to start without the EXIT trap that will stop the server.
	trap >"$PGH_DIR/traps"
	if ! grep 'EXIT' "$PGH_DIR/traps" | grep -q 'pg_harness_cleanup'; then
		_pgh_err "no EXIT trap calls pg_harness_cleanup; add" \
			"\`trap pg_harness_cleanup EXIT\` (or call it from" \
			"your own EXIT trap) before pg_harness_start"
		rm -rf "$PGH_DIR"
		PGH_DIR=''
		_pgh_owner=''
		return 1
	fi

	PGH_SOCKDIR=$PGH_DIR/sock
	PGH_LOG=$PGH_DIR/server.log
	if ! mkdir "$PGH_SOCKDIR" || ! : >"$PGH_LOG"; then
		_pgh_err "cannot write in $PGH_DIR; check TMPDIR"
		return 1
	fi
	if [ -n "$_pgh_runas" ]; then
		chown -R "$_pgh_runas:" "$PGH_DIR" &&
			chmod 700 "$PGH_DIR" || return 1
		if ! runuser -u "$_pgh_runas" -- test -w "$PGH_DIR"; then
			_pgh_err "user $_pgh_runas cannot write to $PGH_DIR" \
				"(a parent directory is closed to it); set" \
				"TMPDIR to a directory it can reach, e.g. /tmp"
			return 1
		fi
	fi

	if ! _pgh_as_server "$PGH_BINDIR/initdb" -D "$PGH_DIR/data" \
		-U postgres -A trust -E UTF8 --no-locale --no-sync \
		>"$PGH_DIR/initdb.log" 2>&1; then
		_pgh_err "initdb failed (data directory $PGH_DIR/data," \
			"log $PGH_DIR/initdb.log); see the log below"
		_pgh_log_tail "$PGH_DIR/initdb.log"
		return 1
	fi
	echo "include 'pg-harness.conf'" >>"$PGH_DIR/data/postgresql.conf"
	cat >"$PGH_DIR/data/pg_hba.conf" <<'EOF'
# written by tests/pg-harness.sh
# TYPE  DATABASE  USER       ADDRESS        METHOD
local   all       all                       trust
host    all       telemetra  127.0.0.1/32   scram-sha-256
EOF
	[ -z "$_pgh_runas" ] || chown "$_pgh_runas:" "$PGH_DIR/data/pg_hba.conf"

	# Pick a free port; retry on a bind race with another process.
	_pgh_try=0
	while :; do
		_pgh_try=$((_pgh_try + 1))
		PGH_PORT=$(_pgh_random_port)
		while _pgh_port_busy "$PGH_PORT"; do
			PGH_PORT=$(_pgh_random_port)
		done
		_pgh_rc=0
		_pgh_start_on_port "$PGH_PORT" || _pgh_rc=$?
		case $_pgh_rc in
		0) break ;;
		2)
			if [ "$_pgh_try" -ge 5 ]; then
				_pgh_err "no free TCP port found for" \
					"PostgreSQL after 5 attempts (log" \
					"$PGH_LOG); see the log below"
				_pgh_log_tail "$PGH_LOG"
				return 1
			fi
			;;
		*) return 1 ;;
		esac
	done
	export PGH_PORT PGH_SOCKDIR PGH_LOG PGH_BINDIR

	if ! _pgh_admin_psql >"$PGH_DIR/setup.log" 2>&1 <<'EOF'; then
CREATE ROLE telemetra LOGIN PASSWORD 'telemetra-secret';
CREATE DATABASE telemetra OWNER telemetra;
EOF
		_pgh_err "cannot create role/database telemetra on port" \
			"$PGH_PORT: $(tr '\n' ' ' <"$PGH_DIR/setup.log")"
		return 1
	fi

	PGH_URL=postgresql://telemetra:telemetra-secret@127.0.0.1:$PGH_PORT/telemetra
	PGH_URL_NOPASS=postgresql://telemetra@127.0.0.1:$PGH_PORT/telemetra
	export PGH_URL PGH_URL_NOPASS
	return 0
}

# Stop the server fast (rolls back open transactions, disconnects clients);
# the data stays for pg_harness_start_server.
pg_harness_stop_server() {
	if ! _pgh_owned; then
		_pgh_err "pg_harness_stop_server: no server; call" \
			"pg_harness_start first"
		return 1
	fi
	if ! _pgh_as_server "$PGH_BINDIR/pg_ctl" -D "$PGH_DIR/data" \
		-m fast -w -t 60 -s stop >/dev/null 2>&1; then
		_pgh_err "pg_ctl stop failed for $PGH_DIR/data (port" \
			"$PGH_PORT; is it running?); see the log below"
		_pgh_log_tail "$PGH_LOG"
		return 1
	fi
}

# Start the stopped server again on the same port; wait until ready.
pg_harness_start_server() {
	if ! _pgh_owned; then
		_pgh_err "pg_harness_start_server: no cluster; call" \
			"pg_harness_start first"
		return 1
	fi
	_pgh_rc=0
	_pgh_start_on_port "$PGH_PORT" || _pgh_rc=$?
	case $_pgh_rc in
	0) return 0 ;;
	2)
		_pgh_err "port $PGH_PORT was taken by another process while" \
			"PostgreSQL was stopped; see the log below"
		_pgh_log_tail "$PGH_LOG"
		return 1
		;;
	*) return 1 ;;
	esac
}

# Run SQL (one or more statements, each argument a separate -c) as the
# role telemetra over TCP; print unaligned, tuples-only output.
pg_harness_psql() {
	if [ -z "${PGH_URL:-}" ]; then
		_pgh_err "pg_harness_psql: no server; call pg_harness_start first"
		return 1
	fi
	if [ $# -eq 0 ]; then
		_pgh_err "pg_harness_psql: no SQL given"
		return 2
	fi
	for _pgh_a do
		shift
		set -- "$@" -c "$_pgh_a"
	done
	"$PGH_BINDIR/psql" -X -q -w -A -t -v ON_ERROR_STOP=1 \
		-d "$PGH_URL" "$@"
}

# Stop the server and remove PGH_DIR. Idempotent; keeps $?.
pg_harness_cleanup() {
	_pgh_status=$?
	if _pgh_owned && [ -f "$PGH_DIR/.pg-harness" ]; then
		if [ -f "$PGH_DIR/data/postmaster.pid" ]; then
			if ! _pgh_as_server "$PGH_BINDIR/pg_ctl" \
				-D "$PGH_DIR/data" -m immediate -w -t 30 -s \
				stop >/dev/null 2>&1; then
				# Last resort: kill the postmaster we started.
				_pgh_pid=$(head -n 1 "$PGH_DIR/data/postmaster.pid")
				if [ -n "$_pgh_pid" ] &&
				    grep -q postgres "/proc/$_pgh_pid/comm" 2>/dev/null; then
					_pgh_err "pg_ctl stop failed; killing" \
						"postmaster $_pgh_pid"
					kill -KILL "$_pgh_pid" 2>/dev/null
				fi
			fi
		fi
		if [ -n "${PGH_KEEP:-}" ]; then
			_pgh_err "keeping $PGH_DIR (PGH_KEEP is set)"
		else
			rm -rf "$PGH_DIR"
		fi
	fi
	if [ "${_pgh_owner:-}" = "$$" ]; then
		_pgh_owner=''
		PGH_DIR=''
		PGH_PORT='' PGH_URL='' PGH_URL_NOPASS='' PGH_LOG='' PGH_SOCKDIR=''
	fi
	return $_pgh_status
}
