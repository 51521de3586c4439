#!/bin/sh
# The README's promises: .ci/run runs exactly the README's test line, and
# every option of replay's --help is documented in the man page.
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
status=0
line=$(grep -E '^apt-get .*make( -j[0-9]+)? check' "$top_srcdir/README.md")
[ -n "$line" ] || { echo "FAIL: README.md has no test line"; exit 1; }
if grep -qxF "$line" "$top_srcdir/.ci/run"; then
	echo "ok   .ci/run runs the README's test line"
else
	echo "FAIL: .ci/run does not run the README's test line:"; echo "  $line"; status=1
fi
demo=$(grep '^apt-get .*make demo' "$top_srcdir/README.md")
[ -n "$demo" ] || { echo "FAIL: README.md has no demo line"; status=1; }
for cmd in replay dump live migrate tune gen report; do
	for opt in $("$TELEMETRA" "$cmd" --help | grep -o -e '--[a-z][a-z0-9-]*' | sort -u); do
		case $opt in --help|--version) continue ;; esac
		grep -q -e "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$top_srcdir/doc/telemetra.1" ||
			{ echo "FAIL: $cmd $opt is not in doc/telemetra.1"; status=1; }
	done
done
[ $status -eq 0 ] && echo "ok   every option of --help is in the man page"
exit $status
