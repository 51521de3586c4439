#!/bin/sh
# gen-test.sh — `telemetra gen`: reproducibility, counts, clean logs, labels
# and decoys, the shape of the traffic (rate spread, over-dispersion, moments
# that stand out), gzip, disorder bounds, malformed fraction, option errors,
# Kafka (librdkafka mock cluster).  Automake test protocol: 0 pass, 1 fail, 77 skip.
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
        if r["kind"] not in ("hype", "funny", "fail", "raid") or r["stream_id"] not in streams:
            sys.exit("bad label %r" % r)
    sys.exit(0)

DECOY_KINDS = {"ad_break", "level_shift", "gift_train", "spammer", "bot", "stream_start",
               "stream_end", "raid_out"}

def chat_by_stream(log):
    """stream_id -> sorted chat times (us), and stream_id -> [(time, user)]."""
    times, users = {}, {}
    for raw in open(log, "rb"):
        ev = event(raw.rstrip(b"\n"))
        if ev and ev[0] == "chat":
            times.setdefault(ev[1], []).append(ev[2])
            users.setdefault(ev[1], []).append((ev[2], json.loads(raw)["user_id"]))
    for v in times.values():
        v.sort()
    return times, users

if sys.argv[1] == "decoys":   # decoys LABELS DECOYS: disjoint, every kind present
    labels = [json.loads(l) for l in open(sys.argv[2])]
    decoys = [json.loads(l) for l in open(sys.argv[3])]
    kinds = set(d["kind"] for d in decoys)
    if kinds != DECOY_KINDS:
        sys.exit("decoy kinds %s, expected %s" % (sorted(kinds), sorted(DECOY_KINDS)))
    spans = {}
    for r in labels + decoys:
        spans.setdefault(r["stream_id"], []).append((parse_ts(r["start"]), parse_ts(r["end"]), r["kind"]))
    for sid, v in spans.items():
        v.sort()
        for a, b in zip(v, v[1:]):
            if not a[0] < a[1] <= b[0]:
                sys.exit("%s: %s %r overlaps %s %r" % (sid, a[2], a[:2], b[2], b[:2]))
    print("labels=%d decoys=%d kinds=%d" % (len(labels), len(decoys), len(kinds)))
    sys.exit(0)

if sys.argv[1] == "rates":    # rates LOG SECONDS: per-stream rates, lowest and highest
    times, _ = chat_by_stream(sys.argv[2])
    rates = sorted(len(v) / float(sys.argv[3]) for v in times.values())
    print("min=%.4f max=%.4f streams=%d" % (rates[0], rates[-1], len(rates)))
    sys.exit(0)

if sys.argv[1] == "dispersion":   # dispersion LOG: variance / mean of 10 s counts, x100
    times, _ = chat_by_stream(sys.argv[2])
    (v,) = times.values()
    counts = {}
    for t in v:
        counts[(t - v[0]) // 10000000] = counts.get((t - v[0]) // 10000000, 0) + 1
    xs = [counts.get(i, 0) for i in range(max(counts))]   # whole bins only
    m = sum(xs) / len(xs)
    var = sum((x - m) ** 2 for x in xs) / len(xs)
    print("mean=%.1f ratio=%d" % (m, int(100 * var / m)))
    sys.exit(0)

if sys.argv[1] == "moments":  # moments LABELS LOG: bursts stand out, in chatters too
    times, users = chat_by_stream(sys.argv[3])
    span = {s: (v[0], v[-1]) for s, v in times.items()}
    louder = more_chatters = n = 0
    for r in (json.loads(l) for l in open(sys.argv[2])):
        s, a, b = r["stream_id"], parse_ts(r["start"]), parse_ts(r["end"])
        lo, hi = span[s]
        rate = len(times[s]) / ((hi - lo) / 1e6)
        inside = [u for t, u in users[s] if a <= t < b]
        before = [u for t, u in users[s] if a - (b - a) - 300000000 <= t < a - 300000000]
        n += 1
        louder += len(inside) > 1.5 * rate * (b - a) / 1e6
        more_chatters += len(set(inside)) > 1.5 * len(set(before))
    print("labels=%d louder=%d more_chatters=%d" % (n, louder, more_chatters))
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
	"--duration 0 --spikes 1" "--channels ," "--branching 1" "--rate-min 0" \
	"--rate-min 5 --rate-max 1" "--chat-rate 2 --rate-max 9" "--decoy-rate -1" "--reply-delay 0"; do
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
	gen --events $n --streams 3 --force -o "$tmp/n.jsonl" || fail "gen --events $n"
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

# --- decoys, and the shape of the traffic ------------------------------------
# Two hours of 6 streams with moments and twice the default decoys: every
# decoy kind appears, labels and decoys never overlap, and the same seed
# writes the same labels and decoys.
realistic="--streams 6 --duration 2h --seed 11 --spikes 18 --decoy-rate 2 --disorder 0 --late 0 --malformed 0"
# shellcheck disable=SC2086
gen $realistic --labels "$tmp/rl.jsonl" --decoys "$tmp/rd.jsonl" -o "$tmp/r.jsonl" || fail "gen realistic"
# shellcheck disable=SC2086
gen $realistic --labels "$tmp/rl2.jsonl" --decoys "$tmp/rd2.jsonl" -o "$tmp/r2.jsonl" || fail "gen realistic 2"
cmp -s "$tmp/r.jsonl" "$tmp/r2.jsonl" && cmp -s "$tmp/rl.jsonl" "$tmp/rl2.jsonl" &&
	cmp -s "$tmp/rd.jsonl" "$tmp/rd2.jsonl" || fail "the same seed gives different events, labels or decoys"
# shellcheck disable=SC2086
gen $realistic --seed 12 --labels "$tmp/rl3.jsonl" --decoys "$tmp/rd3.jsonl" -o "$tmp/r3.jsonl" ||
	fail "gen realistic 3"
cmp -s "$tmp/rl.jsonl" "$tmp/rl3.jsonl" && fail "different seeds give the same labels"
cmp -s "$tmp/rd.jsonl" "$tmp/rd3.jsonl" && fail "different seeds give the same decoys"
out=$("$PYTHON" "$tmp/check.py" decoys "$tmp/rl.jsonl" "$tmp/rd.jsonl") || fail "decoys: $out"
"$PYTHON" "$tmp/check.py" labels "$tmp/rl.jsonl" "$tmp/r.jsonl" 18 || fail "labels of the realistic run"
echo "realistic: $out"
# the true moments stand out: more messages than the stream's mean rate
# gives, and more distinct chatters than just before
out=$("$PYTHON" "$tmp/check.py" moments "$tmp/rl.jsonl" "$tmp/r.jsonl")
louder=$(echo "$out" | facts louder)
chatters=$(echo "$out" | facts more_chatters)
[ "$louder" -ge 16 ] && [ "$chatters" -ge 16 ] || fail "moments do not stand out in most of 18 labels: $out"
echo "moments: $out"
gen --events 1000 --decoys "$tmp/d0.jsonl" --no-edges --decoy-rate 0 -o /dev/null || fail "gen with no decoys"
[ -f "$tmp/d0.jsonl" ] && [ ! -s "$tmp/d0.jsonl" ] || fail "--decoys without decoys is not an empty file"

# rates spread log-uniformly over --rate-min .. --rate-max: 5 streams get
# the middles of 5 slices, 0.16 0.40 1.0 2.5 6.3 messages/s
gen --streams 5 --duration 1h --rate-min 0.1 --rate-max 10 --decoy-rate 0 --no-edges \
	-o "$tmp/rates.jsonl" || fail "gen --rate-min/--rate-max"
out=$("$PYTHON" "$tmp/check.py" rates "$tmp/rates.jsonl" 3600)
awk -v o="$out" 'BEGIN { split(o, f, /[= ]/); exit !(f[2] >= 0.1 && f[2] <= 0.25 && f[4] >= 4 && f[4] <= 10) }' ||
	fail "rates not spread over 0.1 .. 10 as configured: $out"
echo "rates: $out"
# --chat-rate keeps its meaning: the mean over streams
gen --streams 5 --duration 1h --chat-rate 2 --decoy-rate 0 --no-edges -o "$tmp/cr.jsonl" || fail "gen --chat-rate"
n=$(grep -c '"type":"chat"' "$tmp/cr.jsonl")
[ "$n" -ge 28000 ] && [ "$n" -le 44000 ] || fail "--chat-rate 2 over 5 streams and 1 h: $n messages, expected about 36000"

# over-dispersion: on a busy stream 10 s counts vary more than Poisson
# counts (variance = mean), and more with self-excitation than without
busy="--streams 1 --duration 30m --rate-min 20 --rate-max 20 --decoy-rate 0 --no-edges --disorder 0 --late 0 --malformed 0"
# shellcheck disable=SC2086
gen $busy -o "$tmp/busy.jsonl" && gen $busy --branching 0 -o "$tmp/poisson.jsonl" || fail "gen busy"
hawkes=$("$PYTHON" "$tmp/check.py" dispersion "$tmp/busy.jsonl")
poisson=$("$PYTHON" "$tmp/check.py" dispersion "$tmp/poisson.jsonl")
h=$(echo "$hawkes" | facts ratio)
p=$(echo "$poisson" | facts ratio)
[ "$h" -gt 150 ] && [ "$h" -gt "$p" ] || fail "no over-dispersion: default $hawkes, --branching 0 $poisson"
echo "variance/mean x100 of 10 s counts: $h (--branching 0: $p)"
ok "decoys and the shape of the traffic"

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

# --- an existing file is replaced only with --force ---------------------------
# (a file the user did not ask to overwrite is never overwritten)
for opt in -o --labels --decoys; do
	echo keep >"$tmp/kept"
	: >"$tmp/empty"
	case $opt in
	-o) args="-o $tmp/kept" empty="-o $tmp/empty" ;;
	*) args="$opt $tmp/kept -o $tmp/x-$opt.jsonl" empty="$opt $tmp/empty -o $tmp/y-$opt.jsonl" ;;
	esac
	# shellcheck disable=SC2086
	gen --events 100 $args 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || fail "gen $opt over an existing file exits $rc, want 2"
	grep -q "$tmp/kept exists.*--force" "$tmp/err" || fail "gen $opt over an existing file says: $(cat "$tmp/err")"
	[ "$(cat "$tmp/kept")" = keep ] || fail "gen $opt replaced an existing file without --force"
	[ -e "$tmp/x-$opt.jsonl" ] && fail "gen $opt refused, yet wrote its other output"
	# shellcheck disable=SC2086
	gen --events 100 --force $args || fail "gen --force $opt failed"
	[ "$(cat "$tmp/kept")" != keep ] || fail "gen --force $opt kept the old file"
	# shellcheck disable=SC2086
	gen --events 100 $empty || fail "gen $opt over an empty file (nothing to lose) failed"
done
ok "existing outputs: exit 2 naming the file and --force; --force replaces them"

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
