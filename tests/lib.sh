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
