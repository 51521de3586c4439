#!/bin/sh
# The pure core stays pure: no file of src/core/ includes a header outside
# the core and a short list of side-effect-free system headers, and none
# calls a clock, the environment or the file system.  This is what makes
# output rows a pure function of the records fed and the configuration
# (SPEC §1), so it is checked, not just promised.  `make check-core-purity`
# runs it on its own; `make check` runs it with the rest.
#
# An allow-list, not a deny-list: a new include has to be added here on
# purpose, with the reason it cannot do I/O.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 99

# Headers of the C library and of libraries that only compute:
#   jansson  JSON values in memory; its file functions are caught by the
#            call check below.  Only core/state.c (checkpoints) and
#            core/detector.c (the moments' metadata) may include it, so
#            that no core header hands jansson's types on (issue 7)
#   *intrin  SIMD intrinsics of the string scanner
allowed='config.h
assert.h
ctype.h
emmintrin.h
errno.h
float.h
immintrin.h
inttypes.h
jansson.h
limits.h
math.h
stdalign.h
stdarg.h
stdatomic.h
stdbool.h
stddef.h
stdint.h
stdio.h
stdlib.h
string.h'

files=$(ls src/core/*.c src/core/*.h src/core/*/*.c src/core/*/*.h 2>/dev/null)
[ -n "$files" ] || { echo "FAIL: no source files under src/core/"; exit 1; }
count=$(printf '%s\n' "$files" | wc -l)
exit_code=0
tmpfail=$(mktemp) || exit 99
trap 'rm -f "$tmpfail"' EXIT
for f in $files; do
	grep -n '^[[:space:]]*#[[:space:]]*include' "$f" >"$tmpfail.inc" || true
	while IFS= read -r hit; do
		line=${hit%%:*}
		name=$(printf '%s\n' "$hit" | sed -e 's/.*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/')
		case $name in
		core/*) continue ;;
		esac
		if ! printf '%s\n' "$allowed" | grep -qx -- "$name"; then
			echo "FAIL $f:$line: includes <$name>, which is not a pure-core header"
			exit_code=1
		elif [ "$name" = jansson.h ]; then
			case $f in
			src/core/state.c | src/core/detector.c) ;;
			*)
				echo "FAIL $f:$line: includes <jansson.h>: checkpoint values go through core/state.h"
				exit_code=1
				;;
			esac
		fi
	done <"$tmpfail.inc"
done
rm -f "$tmpfail.inc"

# Calls that read a clock, the environment or the file system, or write
# anywhere but memory.  Comments are stripped first (a comment may well
# say "no clock_gettime here").  A line that must do it anyway (dying on
# out-of-memory has no caller to tell) says so with "purity: allowed" and
# its reason in a comment on that line.
calls='clock_gettime|gettimeofday|time|clock|getenv|secure_getenv|fopen|freopen|fdopen|open|openat|read|write|pread|pwrite|mmap|fread|fwrite|fputs|puts|printf|fprintf|vfprintf|perror|json_load_file|json_dump_file|json_loadf|json_dumpf|socket|connect|system|popen|fork|exec[lv]p?e?|sleep|usleep|nanosleep|rand|srand|random'
for f in $files; do
	# Strip /* ... */ and // comments and string literals, keep line numbers.
	sed -e 's,//.*$,,' "$f" | awk '
		{
			out = ""; s = $0
			while (length(s) > 0) {
				if (incomment) {
					i = index(s, "*/")
					if (i == 0) { s = ""; break }
					s = substr(s, i + 2); incomment = 0
				} else {
					i = index(s, "/*")
					if (i == 0) { out = out s; s = ""; break }
					out = out substr(s, 1, i - 1); s = substr(s, i + 2); incomment = 1
				}
			}
			gsub(/"([^"\\]|\\.)*"/, "\"\"", out)
			print out
		}' | grep -nE "(^|[^A-Za-z0-9_.>])($calls)[[:space:]]*\\(" >"$tmpfail" || true
	while IFS= read -r hit; do
		if sed -n "${hit%%:*}p" "$f" | grep -q 'purity: allowed'; then
			continue
		fi
		echo "FAIL $f:${hit%%:*}: calls a clock, the environment or I/O: $(printf '%s' "${hit#*:}" | sed 's/^[[:space:]]*//')"
		exit_code=1
	done <"$tmpfail"
done

if [ "$exit_code" -ne 0 ]; then
	echo "src/core/ must stay free of I/O, clocks and the environment (see README, Development)"
	exit 1
fi
echo "ok   $count files of src/core/ are pure"
