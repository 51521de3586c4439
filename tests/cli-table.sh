#!/bin/sh
# One consistent command line (issue 11 item 4), as a table: every command
# x --help, --version, -V, `telemetra help CMD` (0), a bad option, a bad
# value (2), the bad option named as the user typed it; and every on/off option that CMD --help lists, as --x=true
# and --x=false (0) and --x=maybe (2), each parsed before --help acts, so
# no Kafka or database is needed.  --no-x joins the table where the build
# has it.  Then each command's --help option list against the man page:
# every option --help names is documented in doc/telemetra.1.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
man="$top_srcdir/doc/telemetra.1"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"
T=$TELEMETRA
in=$fx/one_stream.jsonl

bad_value() { # the command with one option given a bad value
	case $1 in
	replay) echo "--window abc $in" ;;
	tune) echo "--window abc $in" ;;
	live) echo "--trigger abc" ;;
	capture) echo "--to yesterday -o $tmp/x.cap" ;;
	gen) echo "--seed abc" ;;
	report) echo "--title" ;;
	dump) echo "$tmp/a.db $tmp/b.db" ;;
	migrate) echo "--postgres=" ;;
	esac
}

$T replay --no-merge-moments --help >/dev/null 2>&1 && has_no=yes || has_no=
[ -n "$has_no" ] || echo "note: this build has no generic --no-x; those rows are skipped"

for cmd in replay live dump migrate tune gen report capture; do
	expect 0 "Usage: telemetra $cmd" $T "$cmd" --help
	expect 0 "Usage: telemetra $cmd" $T help "$cmd"
	expect 0 "^telemetra [0-9]" $T "$cmd" --version
	expect 0 "^telemetra [0-9]" $T "$cmd" -V
	expect 2 "Try 'telemetra $cmd --help'" $T "$cmd" --no-such-option
	# shellcheck disable=SC2046 # a word list
	expect 2 "Try 'telemetra $cmd --help'" $T "$cmd" $(bad_value "$cmd")
	# A bad option is named as typed (not its value, not another word),
	# with the usage hint; -ZY: an unknown letter inside a cluster.
	expect 2 "unknown option '--no-such-option'\$" $T "$cmd" --no-such-option=secret
	expect 2 "unknown option '-Z'\$" $T "$cmd" -ZY
	expect 2 "option '--help' takes no value\$" $T "$cmd" --help=3
	expect 2 "Try 'telemetra $cmd --help'" $T "$cmd" -ZY

	$T "$cmd" --help >"$tmp/help.$cmd"
	# on/off options: listed without =VALUE
	flags=$(sed -n 's/^  \(-[a-zA-Z], \)\{0,1\} *--\([a-z][a-z-]*\)\(  \|$\).*/\2/p' "$tmp/help.$cmd" |
		grep -v -x -e help -e version)
	for x in $flags; do
		expect 0 "Usage:" $T "$cmd" "--$x=true" --help
		expect 0 "Usage:" $T "$cmd" "--$x=false" --help
		expect 2 "true or false" $T "$cmd" "--$x=maybe" --help
		case $x in no-*) continue ;; esac
		[ -n "$has_no" ] && expect 0 "Usage:" $T "$cmd" "--no-$x" --help
	done

	# --help against the man page
	missing=
	for o in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help.$cmd" | sort -u); do
		name=${o#--}
		grep -q -F -e "\\-\\-$(echo "$name" | sed 's/-/\\-/g')" "$man" || missing="$missing $o"
	done
	if [ -n "$missing" ]; then
		fail "$cmd --help names options the man page does not document:$missing"
	else
		ok "$cmd: every option of --help is in the man page"
	fi
done
expect 2 "unknown command" $T help frobnicate

# -X properties are librdkafka's to judge, and are judged before anything
# connects: the broker (port 1) and the database would refuse or never
# answer, so only an early check exits 2 within the timeout, creating
# nothing.
for x in no.such.property=1 session.timeout.ms=abc novalue; do
	key=${x%%=*}
	for c in "live --postgres postgres://u@127.0.0.1:1/x --brokers 127.0.0.1:1" \
		"capture --brokers 127.0.0.1:1 -o $tmp/x.cap" \
		"replay --kafka 127.0.0.1:1 -o $tmp/x.db" \
		"gen --kafka 127.0.0.1:1 --events 5 --labels $tmp/x.labels"; do
		# shellcheck disable=SC2086 # a word list
		expect 2 "-X $key: .*\(property\|KEY=VALUE\)" timeout 10 $T $c -X "$x"
	done
done
for f in x.cap x.db x.labels; do
	[ -e "$tmp/$f" ] && fail "a refused -X property left $f behind"
done
# ... and librdkafka's log lines reach ours, at their level (gen's producer
# here; live in tests/ops.sh, capture in tests/capture.sh).
expect 1 "librdkafka [A-Z]*: .*127.0.0.1:1" timeout 20 $T gen --kafka 127.0.0.1:1 \
	-X message.timeout.ms=1000 -X debug=broker --events 5

[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
