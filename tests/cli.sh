#!/bin/sh
# The command line as scripts meet it: help and version everywhere, exit
# statuses (0 ok, 1 runtime error, 2 usage or configuration error), messages
# that name what is wrong, option precedence, and that a failed run loses
# nothing (the previous output stays in place).
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"

T=$TELEMETRA
for cmd in ${COMMANDS:-replay dump live migrate tune gen report capture}; do
	expect 0 "Usage: telemetra $cmd" $T "$cmd" --help
	expect 0 "^telemetra [0-9]" $T "$cmd" --version
done
expect 0 "Commands:" $T --help
expect 2 "unknown command" $T frobnicate
expect 2 "Usage:" $T

# usage and configuration errors: 2, with a hint
expect 2 "Try 'telemetra replay --help'" $T replay --no-such-option "$fx/one_stream.jsonl"
expect 2 "no input files" $T replay
expect 2 "--window: expected a positive number of seconds" $T replay --window abc "$fx/one_stream.jsonl"
expect 2 "must be a multiple of --slide" $T replay --window 60 --slide 7 "$fx/one_stream.jsonl"
expect 2 "cannot exceed --history" $T replay --history 3 --min-history 5 "$fx/one_stream.jsonl"
expect 2 "positive number" $T replay --min-stddev 0 "$fx/one_stream.jsonl"
expect 2 "needs a value" $T replay "$fx/one_stream.jsonl" --threshold
# on/off options: --x, --x=true, --x=false; nothing else after '='
expect 0 "records" $T replay -o "$tmp/mt.db" --merge-moments=true "$fx/one_stream.jsonl"
expect 0 "records" $T replay -o "$tmp/mf.db" --merge-moments=false "$fx/one_stream.jsonl"
expect 2 "takes true or false" $T replay -o "$tmp/m1.db" --merge-moments=1 "$fx/one_stream.jsonl"
if command -v sqlite3 >/dev/null; then
	[ "$(sqlite3 "$tmp/mt.db" "select json_extract(config, '\$.\"merge-moments\"') from runs")" = 1 ] &&
	[ "$(sqlite3 "$tmp/mf.db" "select json_extract(config, '\$.\"merge-moments\"') from runs")" = 0 ] &&
		ok "--merge-moments=true/false set the option" || fail "--merge-moments=true/false not applied"
fi
printf 'pog\n' >"$tmp/neg.txt"
expect 2 '"pog" is in both lexicons' $T replay --lexicon-negative "$tmp/neg.txt" "$fx/one_stream.jsonl"
printf 'good game\n' >"$tmp/two.txt"
expect 2 "not a single token" $T replay --lexicon-positive "$tmp/two.txt" "$fx/one_stream.jsonl"
expect 2 "cannot open $tmp/missing.txt" $T replay --lexicon-positive "$tmp/missing.txt" "$fx/one_stream.jsonl"
printf '{"windw": 60}' >"$tmp/typo.json"
expect 2 'unknown option "windw"' $T replay --config "$tmp/typo.json" "$fx/one_stream.jsonl"
printf '{"window": 60,}' >"$tmp/bad.json"
expect 2 "config file $tmp/bad.json:1:" $T replay --config "$tmp/bad.json" "$fx/one_stream.jsonl"
# config files are strict, and say where: a number as a string, a switch as
# 1, a duplicate key
printf '{\n "window": "60"\n}\n' >"$tmp/str.json"
expect 2 "str.json:2: \"window\": expected a number, got a string" $T replay --config "$tmp/str.json" "$fx/one_stream.jsonl"
printf '{"threshold": 4,\n "merge-moments": 1}\n' >"$tmp/one.json"
expect 2 "one.json:2: \"merge-moments\": expected true or false" $T replay --config "$tmp/one.json" "$fx/one_stream.jsonl"
printf '{"window": 60,\n "window": 30}\n' >"$tmp/dup.json"
expect 2 "dup.json:2:.*duplicate" $T replay --config "$tmp/dup.json" "$fx/one_stream.jsonl"
printf '{"merge-moments": true, "window": 30, "chat-topic": "t"}\n' >"$tmp/good.json"
expect 0 "records" $T replay -o "$tmp/good.db" --config "$tmp/good.json" "$fx/one_stream.jsonl"
ANOMALY_THRESHOLD=high expect 2 "ANOMALY_THRESHOLD: expected a number" $T replay "$fx/one_stream.jsonl"
expect 2 "expected one database" $T dump

# runtime errors: 1, naming the file and the reason
expect 1 "cannot open $tmp/nope.jsonl: No such file" $T replay -o "$tmp/o.db" "$fx/one_stream.jsonl" "$tmp/nope.jsonl"
[ -e "$tmp/o.db" ] && fail "a failed run left $tmp/o.db behind"
expect 1 "it is a directory" $T replay -o "$tmp/o.db" "$tmp"
head -c 300 "$fx/gzip.jsonl.gz" >"$tmp/cut.gz"
expect 0 "cut.gz: gzip data ends early" $T replay -o "$tmp/cut.db" "$tmp/cut.gz" # tests/damaged-input.sh
printf 'not sqlite at all\n' >"$tmp/notdb"
expect 1 "notdb" $T dump "$tmp/notdb"

# gen --kafka to a broker that is not there fails (in about 10 s), rather
# than retrying for message.timeout.ms (5 minutes); timeout would say 124
expect 1 "cannot reach Kafka at 127.0.0.1:1" timeout 60 $T gen -q --kafka 127.0.0.1:1 --events 10

# success, stdin, and a summary that counts what happened
expect 0 "1 file: 7 records" $T replay -o "$tmp/one.db" "$fx/one_stream.jsonl"
expect 0 "1 file: 7 records" sh -c "$T replay -o '$tmp/stdin.db' - <'$fx/one_stream.jsonl'"
$T dump "$tmp/one.db" >"$tmp/a.dump" && $T dump "$tmp/stdin.db" >"$tmp/b.dump"
cmp -s "$tmp/a.dump" "$tmp/b.dump" || fail "stdin and file replays differ"
expect 0 "45 dead letters" $T replay -o "$tmp/m.db" "$fx/malformed.jsonl"

# a failed run leaves the previous output in place (disk full via ulimit)
cp "$tmp/one.db" "$tmp/keep.db"
expect 1 "keep.db" sh -c "ulimit -f 40; trap '' XFSZ; exec $T replay -q -o '$tmp/keep.db' '$fx/streams_interleaved.jsonl' '$fx/disorder.jsonl' '$fx/malformed.jsonl'"
cmp -s "$tmp/one.db" "$tmp/keep.db" || fail "a failed replay changed the previous output"
ls "$tmp"/keep.db.tmp-* >/dev/null 2>&1 && fail "a failed replay left its temporary file"

# --append adds rows; a plain run replaces them
$T replay -q -o "$tmp/ap.db" "$fx/one_stream.jsonl" && $T replay -q --append -o "$tmp/ap.db" "$fx/spike.jsonl" || fail "append runs failed"
$T dump "$tmp/ap.db" | grep -q '^solo,' && $T dump "$tmp/ap.db" | grep -q '^spiky,' || fail "--append lost rows"
$T replay -q -o "$tmp/ap.db" "$fx/spike.jsonl"
$T dump "$tmp/ap.db" | grep -q '^solo,' && fail "a run without --append kept old rows"

# precedence: command line > environment > config file > defaults
printf '{"threshold": 9, "window": 30, "slide": 30}' >"$tmp/cfg.json"
threshold_of() { sqlite3 "$1" "select json_extract(config, '\$.threshold') from runs" 2>/dev/null ||
	$T dump "$1" >/dev/null; }
if command -v sqlite3 >/dev/null; then
	$T replay -q -o "$tmp/p1.db" --config "$tmp/cfg.json" "$fx/one_stream.jsonl"
	ANOMALY_THRESHOLD=5 $T replay -q -o "$tmp/p2.db" --config "$tmp/cfg.json" "$fx/one_stream.jsonl"
	ANOMALY_THRESHOLD=5 $T replay -q -o "$tmp/p3.db" --threshold 4 --config "$tmp/cfg.json" "$fx/one_stream.jsonl"
	[ "$(threshold_of "$tmp/p1.db")" = 9.0 ] || fail "config file threshold not applied: $(threshold_of "$tmp/p1.db")"
	[ "$(threshold_of "$tmp/p2.db")" = 5.0 ] || fail "environment should beat the config file"
	[ "$(threshold_of "$tmp/p3.db")" = 4.0 ] || fail "command line should beat the environment"
	w=$(sqlite3 "$tmp/p3.db" "select json_extract(config, '\$.window') from runs")
	[ "$w" = 30 ] || fail "config file window lost: $w"
	sha=$(sqlite3 "$tmp/p1.db" "select json_extract(inputs, '\$[0].sha256') from runs")
	[ "$sha" = "$(sha256sum <"$fx/one_stream.jsonl" | cut -d' ' -f1)" ] || fail "runs.inputs sha256 is wrong: $sha"
	echo "ok   precedence and runs table"
else
	fail "sqlite3 is not installed (the README's install line brings it)"
fi

# An input truncated by another process while replay reads it (a daemon
# cutting its capture back): exit 1 with a message, not a short read taken
# as the end (nor SIGBUS).  Replay opens every file when it starts and
# reads stdin first, so the file is cut once replay has opened it and
# before it reads it.
$T gen -q --seed 2 --streams 5 --events 100000 -o "$tmp/shrinking.jsonl"
mkfifo "$tmp/pace"
$T replay -q -o "$tmp/shrink.db" - "$tmp/shrinking.jsonl" <"$tmp/pace" >"$tmp/out" 2>&1 &
pid=$!
exec 5>"$tmp/pace"
deadline=$(($(date +%s) + 30))
until ls -l "/proc/$pid/fd" 2>/dev/null | grep -q shrinking.jsonl; do
	[ "$(date +%s)" -lt "$deadline" ] || { fail "replay never opened its input"; break; }
	sleep 0.05
done
truncate -s 1000000 "$tmp/shrinking.jsonl"
exec 5>&-
wait "$pid"
got=$?
if [ "$got" != 1 ]; then
	fail "replay of a file truncated under it exited $got, want 1"; head -3 "$tmp/out"
elif ! grep -q "shrinking.jsonl shrank while being read" "$tmp/out"; then
	fail "replay of a truncated file: $(cat "$tmp/out")"
elif [ -e "$tmp/shrink.db" ]; then
	fail "a failed replay left an output behind"
else
	ok "1  a file truncated while replay reads it: $(cut -c1-60 "$tmp/out")..."
fi

# A named output appears whole or not at all: a write error (here the file
# size limit, EFBIG) or an unreadable database leaves the previous file, or
# no file, never a cut or empty one.
mkdir "$tmp/whole" && echo previous >"$tmp/whole/log.jsonl" || exit 99
(ulimit -f 8; trap '' XFSZ; exec $T gen -q --force --events 100000 -o "$tmp/whole/log.jsonl") >"$tmp/out" 2>&1
got=$?
if [ "$got" != 1 ] || ! grep -q "cannot write .*log.jsonl: File too large" "$tmp/out"; then
	fail "gen over the file size limit exited $got: $(cat "$tmp/out")"
elif [ "$(cat "$tmp/whole/log.jsonl")" != previous ] || [ "$(ls "$tmp/whole")" != log.jsonl ]; then
	fail "gen's write error cut the previous file or left debris: $(ls "$tmp/whole")"
else
	ok "1  gen -o over the file size limit keeps the previous file, leaves nothing else"
fi
(ulimit -f 8; trap '' XFSZ; exec $T gen -q --events 100000 -o "$tmp/whole/new.jsonl.gz") >/dev/null 2>&1
[ -e "$tmp/whole/new.jsonl.gz" ] && fail "gen -o FILE.gz left a cut file after a write error"
printf 'not a database' >"$tmp/whole/bad.db"
expect 1 "file is not a database" $T dump -o "$tmp/whole/dump.txt" "$tmp/whole/bad.db"
[ "$(ls "$tmp/whole" | sort | tr '\n' ' ')" = "bad.db log.jsonl " ] ||
	fail "dump -o of a bad database left a file: $(ls "$tmp/whole")"
# ... but only a regular file is replaced so: a link keeps pointing where
# it did, and a FIFO (like a device: -o /dev/null) is written through.
ln -s log.jsonl "$tmp/whole/link.jsonl" || exit 99
$T gen -q --force --events 100 -o "$tmp/whole/link.jsonl" || fail "gen -o through a link failed"
if [ -L "$tmp/whole/link.jsonl" ] && [ "$(wc -l <"$tmp/whole/log.jsonl")" -ge 100 ]; then
	ok "0  gen -o LINK writes through the link, which stays a link"
else
	fail "gen -o LINK replaced the link or did not write its target"
fi
mkfifo "$tmp/whole/fifo" || exit 99
cat "$tmp/whole/fifo" >"$tmp/whole/fifo.out" &
reader=$!
$T gen -q --events 100 -o "$tmp/whole/fifo" || fail "gen -o FIFO failed"
# A replaced FIFO would leave its reader waiting for a writer forever.
[ -p "$tmp/whole/fifo" ] || kill "$reader" 2>/dev/null
wait "$reader"
if [ -p "$tmp/whole/fifo" ] && [ "$(wc -l <"$tmp/whole/fifo.out")" -ge 100 ]; then
	ok "0  gen -o FIFO writes into the FIFO, which stays a FIFO"
else
	fail "gen -o FIFO replaced the FIFO or wrote nothing into it"
fi

# Progress on a terminal: a line at least every 65536 input lines, with
# the share done and an ETA (script(1) gives the command a terminal); none
# with -q, and none when stderr is not a terminal.
if command -v script >/dev/null; then
	$T gen -q --seed 1 --events 140000 -o "$tmp/progress.jsonl" || exit 99
	on_tty() { script -qec "$1" /dev/null </dev/null | tr '\r' '\n' >"$tmp/tty.out"; }
	for th in 1 2; do
		on_tty "$T replay --threads $th -o $tmp/progress$th.db $tmp/progress.jsonl"
		if grep -aq "^.*replay: *[0-9]*%, 0:[0-9][0-9] elapsed, ETA [0-9]*:[0-9][0-9] | " "$tmp/tty.out"; then
			ok "replay --threads $th on a terminal shows progress with an ETA"
		else
			fail "replay --threads $th on a terminal: no progress line with an ETA"; head -c 600 "$tmp/tty.out"
		fi
	done
	for j in 1 2; do
		on_tty "$T tune -j $j -o $tmp/progress-t$j.db --grid threshold=3,4 $tmp/progress.jsonl"
		if grep -aq "tune: reading *[0-9]*%, .* ETA .* line 65536" "$tmp/tty.out" &&
			grep -aq "tune: running 100%, .* | 3 of 3 steps" "$tmp/tty.out"; then
			ok "tune -j $j on a terminal shows reading and running progress with an ETA"
		else
			fail "tune -j $j on a terminal: progress lines missing"; head -c 600 "$tmp/tty.out"
		fi
	done
	on_tty "$T replay -q -o $tmp/progress-q.db $tmp/progress.jsonl"
	grep -aq "ETA" "$tmp/tty.out" && fail "replay -q showed a progress line"
	$T replay -o "$tmp/progress-p.db" "$tmp/progress.jsonl" 2>"$tmp/notty.err" >/dev/null
	grep -aq "ETA" "$tmp/notty.err" && fail "replay showed progress on a stderr that is not a terminal"
fi

[ "$failures" -eq 0 ] || { echo "$failures failures"; exit 1; }
