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

# Defaults in --help are generated from config_init() (issue 7): no help
# string in the table spells one by hand, each option line shows at most
# one, at its end, and the generated ones are the values a run uses.
src=$top_srcdir/src/cli/options.c
hand=$(sed -n '/^static const struct opt opts\[\] = {/,/^};/p' "$src" |
	grep -n -e '"[^"]*(default' -e '"[^"]*default:')
if [ -n "$hand" ]; then
	fail "help strings in src/cli/options.c spell a default by hand (give default_text): $hand"
else
	ok "no help string of the options table spells a default by hand"
fi
# One option per line: NAME<tab>its help text, continuation lines joined.
entries() {
	awk '/^  (-[a-zA-Z], |    )--[a-z]/ { if (name != "") print name "\t" text
		name = $0; sub(/^ *(-[a-zA-Z], )? *--/, "", name); sub(/[= ].*/, "", name)
		text = substr($0, 37); next }
	/^                                    [^ ]/ && name != "" { text = text substr($0, 37); next }
	{ if (name != "") print name "\t" text; name = "" }' "$1"
}
# The default an option's line shows ("" for none).
default_of() { # FILE NAME
	entries "$1" | awk -F '\t' -v n="$2" '$1 == n { t = $2; sub(/ \[env [A-Z_]*\]$/, "", t)
		if (match(t, /\(default [^()]*\)$/)) print substr(t, RSTART + 9, RLENGTH - 10) }'
}
for cmd in replay live tune gen report capture dump migrate; do
	bad=$(entries "$tmp/help.$cmd" | awk -F '\t' '{ t = $2; sub(/ \[env [A-Z_]*\]$/, "", t)
		n = gsub(/\(default /, "&", t)
		if (n > 1 || (n == 1 && t !~ /\(default [^()]*\)$/)) print $1 }')
	if [ -n "$bad" ]; then
		fail "$cmd --help: a default not (only) at the end of:" $bad
	else
		ok "$cmd --help: each default once, at the end of its line"
	fi
done
for want in "replay window 60" "replay threshold 3" "replay dispersion 0.1" \
	"replay merge-moments on" "replay detector pane" "replay baseline 900" \
	"live trigger 1" "live max-batch 50000" "live offset-reset latest" "tune tolerance 30" \
	"gen seed 1" "gen streams 10" "gen rate-max 30" "gen duration 600" "gen late 0.001" \
	"gen rate-min 0.016666666666666666" "report tolerance 30"; do
	set -- $want
	got=$(default_of "$tmp/help.$1" "$2")
	if [ "$got" = "$3" ]; then
		ok "$1 --help: --$2 (default $3)"
	else
		fail "$1 --help: --$2 shows default '$got', expected '$3'"
	fi
done
# ... against a run: each generated default of replay's help equals what
# replay records it ran with (the runs table's config) ...
if command -v sqlite3 >/dev/null; then
	$T replay -q -o "$tmp/defaults.db" "$in" || fail "replay with defaults failed"
	mismatch=
	checked=0
	for name in $(entries "$tmp/help.replay" | cut -f1); do
		d=$(default_of "$tmp/help.replay" "$name")
		[ -n "$d" ] && [ "$name" != output ] || continue
		v=$(sqlite3 "$tmp/defaults.db" \
			"select json_extract(config, '\$.\"$name\"') from runs")
		[ -n "$v" ] || continue
		case $d in
		on) [ "$v" = 1 ] || mismatch="$mismatch $name=$d/$v" ;;
		[0-9]*) awk -v a="$d" -v b="$v" 'BEGIN { exit !(a + 0 == b + 0) }' ||
			mismatch="$mismatch $name=$d/$v" ;;
		*[!a-z.-]*) continue ;; # a described default ("one message per window, 1/W")
		*) [ "$d" = "$v" ] || mismatch="$mismatch $name=$d/$v" ;;
		esac
		checked=$((checked + 1))
	done
	if [ -n "$mismatch" ] || [ "$checked" -lt 15 ]; then
		fail "replay --help defaults differ from the run's config ($checked checked):$mismatch"
	else
		ok "replay --help: $checked generated defaults equal the run's config"
	fi
fi
# ... and gen given every numeric default its help shows (as the text
# shown: it must read back exactly) writes what gen without them writes.
args=
for name in $(entries "$tmp/help.gen" | cut -f1); do
	d=$(default_of "$tmp/help.gen" "$name")
	case $d in [0-9]*) args="$args --$name=$d" ;; esac
done
# shellcheck disable=SC2086 # a word list
if [ "$(echo "$args" | wc -w)" -ge 12 ] && $T gen -q >"$tmp/gen.plain" &&
	$T gen -q $args >"$tmp/gen.given" && cmp -s "$tmp/gen.plain" "$tmp/gen.given" &&
	[ -s "$tmp/gen.plain" ]; then
	ok "gen with its help's defaults given ($args) writes the same as without"
else
	fail "gen --help's defaults ($args) do not reproduce gen's default output"
fi

[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
