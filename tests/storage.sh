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
expect 2 'not PostgreSQL' $T report "postgres://u:$SECRET@127.0.0.1:1/db"
no_secret
expect 2 'unknown database scheme' $T report "mysql://u:$SECRET@h/db"
no_secret
expect 2 'after postgres: comes' $T migrate --postgres "mysql://u:$SECRET@h/db"
no_secret
expect 2 'use --sqlite PATH' $T migrate --postgres "sqlite:$tmp/m.db"
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

[ "$failures" -eq 0 ] || exit 1
