#!/bin/sh
# gen-test.sh — `telemetra gen`: reproducibility, counts, clean logs, labels,
# gzip, disorder bounds, malformed fraction, option errors, Kafka (librdkafka
# mock cluster).  Automake test protocol: 0 pass, 1 fail, 77 skip.
# Needs python3 (to check JSON); skipped without it.

TELEMETRA=${TELEMETRA:-./src/telemetra}
PYTHON=${PYTHON:-python3}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
	echo "SKIP: $PYTHON not found (needed to check the JSON output)"
	exit 77
fi
if [ ! -x "$TELEMETRA" ]; then
	echo "FAIL: $TELEMETRA is not an executable"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
ok() {
	echo "ok: $*"
}
gen() {
	"$TELEMETRA" gen -q "$@"
}

# A checker for the logs: prints one line of facts, exit 1 on a violation.
cat >"$tmp/check.py" <<'EOF'
import datetime, json, re, sys

TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}(:?\d{2})?)?$")

def parse_ts(v):
    """SPEC §2 timestamps, microseconds since the epoch, or None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        if v != v or abs(v) > 1e15:
            return None
        return int(v * 1e6) if v < 1e11 else int(v * 1e3)
    if not isinstance(v, str):
        return None
    m = TS.match(v)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    if y < 1 or s > 59:
        return None
    try:
        dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    frac = (m.group(7) or ".")[1:7].ljust(6, "0")
    off = m.group(8) or "Z"
    sec = 0
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        hh, mm = int(digits[:2]), int(digits[2:] or 0)
        if hh > 23 or mm > 59:
            return None
        sec = sign * (hh * 3600 + mm * 60)
    return (int(dt.timestamp()) - sec) * 1000000 + int(frac)

def event(raw):
    """(kind, stream_id, time_us) of a valid event, or None."""
    try:
        e = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(e, dict):
        return None
    sid = e.get("stream_id")
    t = parse_ts(e.get("timestamp"))
    if not isinstance(sid, str) or not sid or t is None:
        return None
    kind = e.get("type")
    if kind == "viewer":
        vc = e.get("viewer_count")
        if not isinstance(vc, int) or isinstance(vc, bool) or vc < 0:
            return None
    elif kind == "chat":
        if not isinstance(e.get("user_id"), str) or not isinstance(e.get("message"), str):
            return None
        if not isinstance(e.get("event_id"), str) or not isinstance(e.get("emotes"), list):
            return None
    else:
        return None
    return kind, sid, t

if sys.argv[1] == "labels":   # labels LABELS LOG N
    labels, log, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    times, streams = [], set()
    for raw in open(log, "rb"):
        ev = event(raw.rstrip(b"\n"))
        if ev:
            times.append(ev[2])
            streams.add(ev[1])
    lo, hi = min(times), max(times)
    rows = [json.loads(l) for l in open(labels)]
    if len(rows) != n:
        sys.exit("%d labels, expected %d" % (len(rows), n))
    for r in rows:
        if set(r) != {"stream_id", "start", "end", "kind"}:
            sys.exit("label fields: %r" % r)
        s, e = parse_ts(r["start"]), parse_ts(r["end"])
        if s is None or e is None or not (lo < s < e < hi):
            sys.exit("label outside the span of the log: %r" % r)
        if r["kind"] not in ("hype", "raid") or r["stream_id"] not in streams:
            sys.exit("bad label %r" % r)
    sys.exit(0)

mode, path = sys.argv[1], sys.argv[2]
D = int(float(sys.argv[3]) * 1e6) if len(sys.argv) > 3 else 10000000
lines = bad = beyond = late = 0
maxt = None
streams = set()
ordered = True
for raw in open(path, "rb"):
    raw = raw.rstrip(b"\n")
    lines += 1
    ev = event(raw)
    if ev is None:
        bad += 1
        if mode == "clean":
            print("line %d is not a valid event: %r" % (lines, raw[:200]))
            sys.exit(1)
        continue
    kind, sid, t = ev
    streams.add(sid)
    if maxt is not None:
        if t < maxt:
            ordered = False
        if maxt >= t + D:          # displaced by D or more
            beyond += 1
            if maxt > t + D + 60000000:
                late += 1
    maxt = t if maxt is None else max(maxt, t)
if mode == "clean" and not ordered:
    print("timestamps are not non-decreasing")
    sys.exit(1)
print("lines=%d bad=%d beyond=%d late=%d streams=%d ordered=%d" %
      (lines, bad, beyond, late, len(streams), ordered))
EOF

facts() { # facts KEY < line  ->  value
	sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p"
}

# --- help, version, usage errors ------------------------------------------
"$TELEMETRA" gen --help >"$tmp/help" 2>&1 && grep -q -- '--spikes' "$tmp/help" ||
	fail "--help does not exit 0 with usage"
"$TELEMETRA" gen --version >/dev/null 2>&1 || fail "--version does not exit 0"
for bad in "--no-such-option" "--events 0" "--events x" "--streams 0" "--disorder 2" \
	"--malformed -0.1" "--chat-rate 0" "--duration abc" "--start yesterday" \
	"--seed -1" "--viewer-interval 0" "extra-argument" "--spikes 5 --duration 120" \
	"--duration 0 --spikes 1" "--channels ,"; do
	# shellcheck disable=SC2086
	"$TELEMETRA" gen $bad >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ]; then
		fail "'gen $bad' exits $rc, not 2"
	elif [ "$(wc -l <"$tmp/err")" -gt 2 ] || ! grep -q 'error:' "$tmp/err"; then
		fail "'gen $bad' does not say what is wrong in one line"
	fi
done
RATE_PER_SEC=abc "$TELEMETRA" gen --events 1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad RATE_PER_SEC does not exit 2"
ok "help, version and usage errors"

# --- reproducibility --------------------------------------------------------
gen --events 20000 --streams 7 --seed 42 -o "$tmp/a.jsonl" || fail "gen a"
gen --events 20000 --streams 7 --seed 42 -o "$tmp/b.jsonl" || fail "gen b"
gen --events 20000 --streams 7 --seed 43 -o "$tmp/c.jsonl" || fail "gen c"
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "the same seed gives different bytes"
cmp -s "$tmp/a.jsonl" "$tmp/c.jsonl" && fail "different seeds give the same bytes"
gen --events 20000 --streams 7 --seed 42 >"$tmp/stdout.jsonl" || fail "gen to stdout"
cmp -s "$tmp/a.jsonl" "$tmp/stdout.jsonl" || fail "stdout differs from -o"
ok "reproducible"

# --- --events N gives exactly N lines ---------------------------------------
for n in 1 17 20000; do
	gen --events $n --streams 3 -o "$tmp/n.jsonl" || fail "gen --events $n"
	[ "$(wc -l <"$tmp/n.jsonl")" -eq $n ] || fail "--events $n gives $(wc -l <"$tmp/n.jsonl") lines"
done
ok "--events N gives N lines"

# --- clean logs -------------------------------------------------------------
gen --duration 900 --streams 5 --seed 7 --disorder 0 --late 0 --malformed 0 \
	--spikes 4 --labels "$tmp/labels.jsonl" -o "$tmp/clean.jsonl" || fail "gen clean"
out=$("$PYTHON" "$tmp/check.py" clean "$tmp/clean.jsonl") || fail "clean log: $out"
[ "$(echo "$out" | facts streams)" = 5 ] || fail "clean log: expected 5 streams: $out"
gen --events 30000 --streams 20 --seed 9 --disorder 0 --late 0 --malformed 0 -o "$tmp/clean2.jsonl" ||
	fail "gen clean2"
out=$("$PYTHON" "$tmp/check.py" clean "$tmp/clean2.jsonl") || fail "clean log 2: $out"
ok "clean logs are valid and time-ordered"

# --- labels -------------------------------------------------------------------
"$PYTHON" "$tmp/check.py" labels "$tmp/labels.jsonl" "$tmp/clean.jsonl" 4 || fail "labels of --duration run"
gen --events 200000 --streams 10 --spikes 12 --labels "$tmp/l2.jsonl" -o "$tmp/s2.jsonl" ||
	fail "gen --events with spikes"
"$PYTHON" "$tmp/check.py" labels "$tmp/l2.jsonl" "$tmp/s2.jsonl" 12 || fail "labels of --events run"
gen --events 10 --labels "$tmp/l0.jsonl" >/dev/null || fail "gen with empty labels"
[ -f "$tmp/l0.jsonl" ] && [ ! -s "$tmp/l0.jsonl" ] || fail "--labels without --spikes is not an empty file"
ok "labels"

# --- gzip -------------------------------------------------------------------
gen --events 5000 --streams 4 --seed 3 -o "$tmp/g.jsonl" || fail "gen plain"
gen --events 5000 --streams 4 --seed 3 -o "$tmp/g.jsonl.gz" || fail "gen gz"
gzip -t "$tmp/g.jsonl.gz" 2>/dev/null || fail "the .gz output is not gzip"
gzip -dc "$tmp/g.jsonl.gz" | cmp -s - "$tmp/g.jsonl" || fail "the .gz output differs from the plain one"
ok "gzip"

# --- disorder, late, malformed ---------------------------------------------
gen --events 200000 --streams 20 --seed 5 -o "$tmp/d.jsonl" || fail "gen defaults"
out=$("$PYTHON" "$tmp/check.py" stats "$tmp/d.jsonl" 10) || fail "check defaults: $out"
bad=$(echo "$out" | facts bad)
late=$(echo "$out" | facts late)
beyond=$(echo "$out" | facts beyond)
# 0.001 of 200000 = 200 malformed lines; 0.001 late lines; nothing else beyond D
[ "$bad" -ge 140 ] && [ "$bad" -le 260 ] || fail "malformed lines: $bad, expected about 200 ($out)"
[ "$late" -ge 140 ] && [ "$late" -le 260 ] || fail "late lines: $late, expected about 200 ($out)"
[ "$beyond" -eq "$late" ] || fail "lines displaced by D..D+60s: expected none ($out)"
[ "$(echo "$out" | facts ordered)" = 0 ] || fail "default log has no disorder ($out)"
echo "defaults: $out"

# disorder only: every line is within D of the maximum before it
gen --duration 1200 --streams 8 --disorder 0.2 --late 0 --malformed 0 --watermark-delay 5 \
	-o "$tmp/e.jsonl" || fail "gen disorder"
out=$("$PYTHON" "$tmp/check.py" stats "$tmp/e.jsonl" 5) || fail "check disorder: $out"
[ "$(echo "$out" | facts beyond)" = 0 ] || fail "--disorder displaced lines by D or more ($out)"
[ "$(echo "$out" | facts bad)" = 0 ] || fail "--malformed 0 gave bad lines ($out)"
# ... and the same events as the ordered log, only in another order
gen --duration 1200 --streams 8 --disorder 0 --late 0 --malformed 0 -o "$tmp/f.jsonl" || fail "gen ordered"
sort "$tmp/e.jsonl" >"$tmp/e.sorted"
sort "$tmp/f.jsonl" >"$tmp/f.sorted"
cmp -s "$tmp/e.sorted" "$tmp/f.sorted" || fail "--disorder changed the events, not only their order"
ok "disorder, late and malformed fractions"

# --- environment of the mock producer -------------------------------------------
CHANNELS="alpha, beta,gamma" gen --events 3000 -o "$tmp/ch.jsonl" || fail "gen with CHANNELS"
out=$("$PYTHON" "$tmp/check.py" stats "$tmp/ch.jsonl") || fail "check CHANNELS: $out"
[ "$(echo "$out" | facts streams)" = 3 ] || fail "CHANNELS: expected 3 streams ($out)"
grep -q '"stream_id":"beta"' "$tmp/ch.jsonl" || fail "CHANNELS: no stream 'beta'"
CHANNELS="alpha,beta" gen --events 3000 --streams 4 -o "$tmp/ch2.jsonl" || fail "gen --streams over CHANNELS"
grep -q '"stream_id":"alpha"' "$tmp/ch2.jsonl" && fail "--streams does not win over CHANNELS"
ok "CHANNELS"

# --- pacing -------------------------------------------------------------------
start=$(date +%s%N)
gen --events 60 --rate 100 -o /dev/null || fail "gen --rate"
end=$(date +%s%N)
ms=$(((end - start) / 1000000))
[ "$ms" -ge 450 ] || fail "--rate 100 --events 60 took $ms ms, expected about 600"
ok "pacing ($ms ms for 60 events at 100/s)"

# --- runtime errors -----------------------------------------------------------
if [ -w /dev/full ]; then
	gen --events 100000 -o /dev/full 2>/dev/null
	[ $? -eq 1 ] || fail "writing to a full disk does not exit 1"
fi
gen --events 10 -o "$tmp/no/such/dir/x.jsonl" 2>/dev/null
[ $? -eq 1 ] || fail "an uncreatable output does not exit 1"
ok "runtime errors"

# --- Kafka: librdkafka's in-process mock cluster, then an unreachable broker -----
if gen --kafka localhost:9092 -X test.mock.num.brokers=1 --events 5000 --streams 3 2>"$tmp/kerr"; then
	ok "kafka (mock cluster)"
else
	fail "gen --kafka with a mock cluster: $(cat "$tmp/kerr")"
fi
gen --kafka 127.0.0.1:1 -X message.timeout.ms=1000 --events 5 2>"$tmp/kerr"
rc=$?
[ $rc -eq 1 ] || fail "undelivered Kafka messages exit $rc, not 1"
grep -q 'not delivered' "$tmp/kerr" || fail "undelivered Kafka messages are not reported"
gen --kafka localhost:9092 -X no.such.property=1 --events 5 2>/dev/null
[ $? -eq 2 ] || fail "a bad -X property does not exit 2"
ok "kafka errors"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
exit 0
