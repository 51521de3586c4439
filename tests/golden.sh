#!/bin/sh
# Golden tests: replay each fixture and compare its canonical dump with the
# committed one.
#
#   fixtures/NAME.args   replay arguments, one or more lines ('#' comments
#                        hold hand derivations); paths are relative to fixtures/
#   fixtures/NAME.dump   the expected `telemetra dump` output
#
# Replays run inside fixtures/ so that dead letters name the input files the
# same way on every machine.  GOLDEN_UPDATE=1 rewrites the .dump files
# (review the diff before committing!).  Optional arguments: fixture names.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fixtures="$top_srcdir/fixtures"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

names=${*:-$(cd "$fixtures" && ls *.args | sed 's/\.args$//')}
failed=0
count=0
for name in $names; do
	count=$((count + 1))
	args=$(grep -v '^[[:space:]]*#' "$fixtures/$name.args" | tr '\n' ' ')
	# shellcheck disable=SC2086 # the args file is a word list
	if ! (cd "$fixtures" && "$TELEMETRA" replay -q -o "$tmp/$name.db" $args) 2>"$tmp/$name.err"; then
		echo "FAIL $name: replay failed:"; cat "$tmp/$name.err"
		failed=$((failed + 1))
		continue
	fi
	"$TELEMETRA" dump "$tmp/$name.db" >"$tmp/$name.dump" || { failed=$((failed + 1)); continue; }
	if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$tmp/$name.dump" "$fixtures/$name.dump"
		echo "updated $name"
	elif ! diff -u "$fixtures/$name.dump" "$tmp/$name.dump" >"$tmp/$name.diff"; then
		echo "FAIL $name: dump differs from fixtures/$name.dump:"
		cat "$tmp/$name.diff"
		failed=$((failed + 1))
	else
		echo "ok   $name"
	fi
done
# Fixtures whose dumps must be identical: the point of lanes and watermarks.
while read -r a b; do
	case $a in ''|'#'*) continue ;; esac
	if cmp -s "$fixtures/$a.dump" "$fixtures/$b.dump"; then
		echo "ok   $a = $b"
	else
		echo "FAIL $a and $b should give identical dumps"
		failed=$((failed + 1))
	fi
done <"$fixtures/EQUAL"
[ "$count" -ge 10 ] || { echo "FAIL: only $count golden fixtures, want at least 10"; exit 1; }
[ "$failed" -eq 0 ] || { echo "$failed of $count golden fixtures failed"; exit 1; }
echo "all $count golden fixtures match"
