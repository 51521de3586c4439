#!/bin/sh
# The layers of src/ and the absence of module cycles (see tests/layers.py).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
exec python3 "$top_srcdir/tests/layers.py" "$top_srcdir" "$top_builddir"
