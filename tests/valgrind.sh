#!/bin/sh
# Replays of fixtures under valgrind: no invalid access and no leak of any
# kind (definite, indirect, possible or reachable), on the paths that
# allocate the most — capture envelopes with lanes, slices and bad payloads;
# malformed input; merged moments.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if [ "${TELEMETRA_SANITIZERS:-no}" = yes ]; then
	echo "SKIP: sanitizer build (ASan and valgrind do not mix)"; exit 77
fi
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
cd "$top_srcdir/fixtures" || exit 99
status=0
for args in "capture_a.jsonl" "malformed.jsonl" "--window 10 --slide 10 --history 3 --merge-moments merge.jsonl"; do
	# shellcheck disable=SC2086
	if valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=3 "$TELEMETRA" replay -q -o "$tmp/v.db" $args 2>"$tmp/vg.log"; then
		echo "ok   valgrind replay $args"
	else
		echo "FAIL valgrind replay $args:"; cat "$tmp/vg.log"; status=1
	fi
	valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=3 "$TELEMETRA" dump "$tmp/v.db" >/dev/null 2>"$tmp/vg.log" ||
		{ echo "FAIL valgrind dump:"; cat "$tmp/vg.log"; status=1; }
done
exit $status
