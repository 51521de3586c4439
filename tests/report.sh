#!/bin/sh
# telemetra report: the HTML page of a replay's output.
#
#  - command line: help, version, usage errors (2), runtime errors (1) that
#    name the file and the reason, and a failed run leaves nothing behind;
#  - the page of the bundled demo, of a generated log with labels and
#    hostile stream ids (a<b&"c', non-ASCII, a control character), and of a
#    long stream that must be thinned: well-formed XML, one <svg> per
#    stream, every stream and every moment named (checked against sqlite3),
#    one marker per moment, nothing external, same bytes on every run;
#  - valgrind: no invalid access, no leak;
#  - headless Chromium loads each page and takes a screenshot with no
#    console message and no other file loaded (see page_errors below); its
#    DOM has the charts.  Chromium is installed with apt-get when missing and
#    we are root (CI does exactly that); otherwise the test is skipped (77).
set -u
: "${TELEMETRA:=$PWD/src/telemetra}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
fx="$top_srcdir/fixtures"
T=$TELEMETRA
for tool in python3 sqlite3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/lib.sh"

# --- the command line ---------------------------------------------------------
expect 0 "Usage: telemetra report" $T report --help
expect 0 "^telemetra [0-9]" $T report --version
expect 2 "expected one database" $T report
expect 2 "Try 'telemetra report --help'" $T report --no-such-option x.db
expect 2 "needs a value" $T report x.db --labels
expect 2 "expected one database" $T report a.db b.db
expect 1 "cannot open $tmp/nope.db: No such file" $T report -o "$tmp/r.html" "$tmp/nope.db"
echo "not a database, just text" >"$tmp/text.db"
expect 1 "$tmp/text.db: file is not a database" $T report -o "$tmp/r.html" "$tmp/text.db"
sqlite3 "$tmp/other.db" "CREATE TABLE t (x)" || exit 99
expect 1 "$tmp/other.db is not a telemetra output" $T report -o "$tmp/r.html" "$tmp/other.db"
# A failed run leaves the previous page, and no temporary file.
echo old >"$tmp/r.html"
expect 1 "not a telemetra output" $T report -o "$tmp/r.html" "$tmp/other.db"
[ "$(cat "$tmp/r.html")" = old ] || fail "a failed report replaced the previous page"
ls "$tmp" | grep -q 'tmp-' && fail "a failed report left a temporary file: $(ls "$tmp")"

# --- the databases --------------------------------------------------------------
"$T" replay -q -o "$tmp/demo.db" "$fx/demo.jsonl.gz" || { echo "replay of demo failed"; exit 99; }
# Hostile stream ids, in the events and in the labels; the first stream
# gets a merged-moment run.  printf keeps the \u0001 escape as JSON text.
nasty='a<b&"c'"'"
printf '%s\n' '{"timestamp":"2025-11-23T12:00:00Z","stream_id":"ctl\u0001x","user_id":"u","message":"hi"}' \
	>"$tmp/nasty.jsonl"
"$T" gen -q --seed 7 --channels "$nasty,zürich ✓ 配信,plain" --duration 40m --chat-rate 2 \
	--spikes 4 --labels "$tmp/labels.jsonl" >>"$tmp/nasty.jsonl" || exit 99
printf '%s\n' '{"stream_id":"ghost","start":"2025-11-23T12:10:00Z","end":"2025-11-23T12:11:00Z","kind":"<raid> & \"co\""}' \
	>>"$tmp/labels.jsonl"
"$T" replay -q --merge-moments -o "$tmp/nasty.db" "$tmp/nasty.jsonl" || exit 99
# A long stream: a day of 10 s slides, far more windows than pixel columns.
"$T" gen -q --seed 3 --channels long --duration 24h --chat-rate 0.3 --viewer-interval 600 \
	--spikes 6 -o "$tmp/long.jsonl" || exit 99
"$T" replay -q -o "$tmp/long.db" "$tmp/long.jsonl" || exit 99

# Bad labels: exit 1, naming the file and the line.
cp "$tmp/labels.jsonl" "$tmp/bad-labels.jsonl"
echo '{"stream_id":"x","start":"yesterday","end":"2025-11-23T12:00:00Z"}' >>"$tmp/bad-labels.jsonl"
n=$(wc -l <"$tmp/bad-labels.jsonl")
expect 1 "$tmp/bad-labels.jsonl:$n: bad label: \"start\" must be an RFC 3339" \
	$T report --labels "$tmp/bad-labels.jsonl" -o "$tmp/r.html" "$tmp/demo.db"
printf '{"stream_id":"x",\n' >"$tmp/bad-json.jsonl"
expect 1 "$tmp/bad-json.jsonl:1: bad label: not valid JSON" \
	$T report --labels "$tmp/bad-json.jsonl" -o "$tmp/r.html" "$tmp/demo.db"
expect 1 "cannot open labels file $tmp/none.jsonl" \
	$T report --labels "$tmp/none.jsonl" -o "$tmp/r.html" "$tmp/demo.db"
expect 1 "cannot create $tmp/no/such/dir/r.html" $T report -o "$tmp/no/such/dir/r.html" "$tmp/demo.db"

# --- the pages ------------------------------------------------------------------
cat >"$tmp/check.py" <<'EOF'
"""check.py PAGE STREAMS.json MOMENTS.json [labels] [thin]: the page against the database."""
import json, re, sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

page, streams_file, moments_file = sys.argv[1:4]
flags = set(sys.argv[4:])
H, S = "{http://www.w3.org/1999/xhtml}", "{http://www.w3.org/2000/svg}"
errors = []

def load(path):  # sqlite3 -json prints nothing at all for no rows
    text = open(path, encoding="utf-8").read().strip()
    return json.loads(text) if text else []

def shown(s):  # what the page shows for user text: XML-unsafe characters as U+FFFD
    return "".join("\ufffd" if (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F
                   or c in "\ufffe\uffff" else c for c in (s or ""))

def text(e):
    return "".join(e.itertext())

streams = sorted((r["stream_id"] for r in load(streams_file)), key=lambda s: s.encode())
moments = load(moments_file)
src = open(page, encoding="utf-8").read()
try:
    root = ET.fromstring(src.encode("utf-8"))
except ET.ParseError as e:
    print("FAIL: %s is not well-formed XML: %s" % (page, e))
    sys.exit(1)

svgs = root.findall(".//" + S + "svg")
if len(svgs) != len(streams):
    errors.append("%d <svg> for %d streams" % (len(svgs), len(streams)))
class Count(HTMLParser):  # and as HTML
    n = 0
    def handle_starttag(self, tag, attrs):
        self.n += tag == "svg"
c = Count(); c.feed(src)
if c.n != len(streams):
    errors.append("html.parser sees %d <svg> for %d streams" % (c.n, len(streams)))

heads = [text(e) for e in root.iter(H + "h3")]
if heads != [shown(s) for s in streams]:
    errors.append("stream headings %r, want %r" % (heads[:8], [shown(s) for s in streams][:8]))
for svg, s in zip(svgs, streams):
    title = svg.find(S + "title")
    if title is None or shown(s) not in text(title):
        errors.append("the chart of %r does not name it" % s)

markers = [e for e in root.iter(S + "circle") if e.find(S + "title") is not None]
if len(markers) != len(moments):
    errors.append("%d moment markers for %d moments" % (len(markers), len(moments)))
table = root.find(".//%stable[@class='moments']" % H)
rows = table.findall("./%stbody/%str" % (H, H)) if table is not None else []
got = sorted((text(r[1]), text(r[-1])) for r in rows)
want = sorted((shown(m["stream_id"]), shown(m["description"])) for m in moments)
if got != want:
    errors.append("moments table: %d rows for %d moments; first difference %r" % (
        len(rows), len(moments), next((g for g, w in zip(got, want) if g != w), None)))
z = [float(text(r[4])) for r in rows]
if z != sorted(z, reverse=True):
    errors.append("moments table is not sorted by intensity")

# Self-contained: no script, nothing fetched.
for e in root.iter():
    tag = e.tag.split("}")[-1]
    if tag in ("script", "link", "img", "image", "iframe", "object", "embed", "use"):
        errors.append("external-capable element <%s>" % tag)
    for a, v in e.attrib.items():
        if a.split("}")[-1] in ("src", "href") and not v.startswith("#"):
            errors.append("reference to %s" % v)
for m in re.finditer(r"url\(\s*([^)]*)\)|@import|@font-face", src):
    if not (m.group(1) or "").startswith("#"):
        errors.append("CSS fetches: %s" % m.group(0))

if "labels" in flags and not root.findall(".//%srect[@class='label']" % S):
    errors.append("no label span although a labels file was given")
if "thin" in flags:
    if "thinned" not in src:
        errors.append("the page does not say the chart is thinned")
    most = max(len(p.get("points").split()) for p in root.iter(S + "polyline"))
    if most > 2 * 1100:
        errors.append("a polyline has %d points: not thinned" % most)
if len(src) > 400000:
    errors.append("the page is %d bytes" % len(src))
for e in errors:
    print("FAIL: %s: %s" % (page, e))
print("ok   %s: well-formed, %d streams, %d moments, %d bytes" % (page, len(streams), len(moments),
                                                                len(src)))
sys.exit(1 if errors else 0)
EOF

# check_page NAME DB [--labels FILE] [thin]
check_page() {
	name=$1 db=$2
	shift 2
	extra=
	if [ "${1:-}" = --labels ]; then
		largs="--labels $2"; extra=labels; shift 2
	else
		largs=
	fi
	[ "${1:-}" = thin ] && extra="$extra thin"
	# shellcheck disable=SC2086
	if ! $T report $largs -o "$tmp/$name.html" "$db" 2>"$tmp/err"; then
		fail "report of $name failed: $(cat "$tmp/err")"; return
	fi
	# shellcheck disable=SC2086
	$T report $largs -o - "$db" >"$tmp/$name-2.html" 2>/dev/null
	cmp -s "$tmp/$name.html" "$tmp/$name-2.html" ||
		fail "$name: two reports of the same database differ (or -o - differs from -o FILE)"
	sqlite3 -json "$db" "SELECT stream_id FROM chat_summary_minute UNION SELECT stream_id FROM moments" \
		>"$tmp/$name-streams.json" || exit 99
	sqlite3 -json "$db" "SELECT stream_id, description FROM moments" >"$tmp/$name-moments.json" || exit 99
	# shellcheck disable=SC2086
	python3 "$tmp/check.py" "$tmp/$name.html" "$tmp/$name-streams.json" "$tmp/$name-moments.json" \
		$extra || failures=$((failures + 1))
}
check_page demo "$tmp/demo.db"
check_page nasty "$tmp/nasty.db" --labels "$tmp/labels.jsonl"
check_page long "$tmp/long.db" thin
grep -q 'a&lt;b&amp;&quot;c&#39;' "$tmp/nasty.html" || fail "the hostile stream id is not escaped as expected"
grep -q 'ghost' "$tmp/nasty.html" || fail "labels of a stream absent from the database are not mentioned"

# --- judging a configuration: the scores equal tune's --------------------------
# Hand-made chat (tests/tune-chat.py, see tests/tune.sh): s0 a burst that splits
# into two moments (one episode), s1 a big burst, s2 and s3 small ones. Labels on
# s0, s1, s2 and one on s1 an hour before anything (missed); s3's burst is a
# decoy (a false alarm at threshold 3).  The seed detector, whose z over the
# previous 5 windows these bursts were made for: this checks scoring, not
# detection.
python3 "$top_srcdir/tests/tune-chat.py" "$tmp/judge.jsonl" s0:split s1:big s2:small s3:small || exit 99
lab() { printf '{"stream_id":"%s","start":"2025-11-23T%s","end":"2025-11-23T%s","kind":"%s"}\n' "$@"; }
{ lab s0 12:05:00Z 12:05:30Z hype; lab s1 12:05:00Z 12:05:10Z hype; lab s2 12:05:00Z 12:05:10Z funny
  lab s1 11:00:00Z 11:00:30Z fail; } >"$tmp/judgeL.jsonl"
lab s3 12:05:00Z 12:05:10Z sub_train >"$tmp/judgeD.jsonl"
hand="--detector seed --window 20 --history 5 --merge-moments"
# shellcheck disable=SC2086
"$T" replay -q -o "$tmp/judge.db" $hand "$tmp/judge.jsonl" || exit 99
# shellcheck disable=SC2086
"$T" tune -q -o "$tmp/judge-tune.db" $hand --labels "$tmp/judgeL.jsonl" "$tmp/judge.jsonl" >/dev/null || exit 99
"$T" report --labels "$tmp/judgeL.jsonl" --decoys "$tmp/judgeD.jsonl" -o "$tmp/judge.html" "$tmp/judge.db" ||
	fail "report --labels --decoys failed"
sqlite3 -json "$tmp/judge-tune.db" "select printf('%.3f', precision) as precision, printf('%.3f', recall) as recall,
	printf('%.3f', f1) as f1, printf('%.2f', false_per_stream_hour) as fph, true_positives as tp,
	false_positives as fp, false_negatives as fn from tuning_results" >"$tmp/judge-tune.json" || exit 99
python3 - "$tmp/judge.html" "$tmp/judge-tune.json" <<'EOF' || failures=$((failures + 1))
import json, sys
import xml.etree.ElementTree as ET
H = "{http://www.w3.org/1999/xhtml}"
root = ET.parse(sys.argv[1]).getroot()
tune = json.load(open(sys.argv[2]))[0]
text = lambda e: "".join(e.itertext()).strip()
errors = []
score = root.find(".//%stable[@class='score']" % H)
figs = {text(r[0]): text(r[1]) for r in score.iter(H + "tr")} if score is not None else {}
want = {"precision": tune["precision"], "recall": tune["recall"], "F1": tune["f1"],
        "false alarms per stream-hour": tune["fph"],
        "true positives (labels found)": str(tune["tp"]),
        "false positives (false episodes)": str(tune["fp"]),
        "false negatives (labels missed)": str(tune["fn"])}
for k, v in want.items():
    if figs.get(k) != v:
        errors.append("%s: page %r, tune %r" % (k, figs.get(k), v))
if (tune["tp"], tune["fp"], tune["fn"]) != (3, 1, 1):
    errors.append("tune scored TP/FP/FN %r, want 3/1/1" % ((tune["tp"], tune["fp"], tune["fn"]),))
def rows(cls):
    t = root.find(".//%stable[@class='%s']" % (H, cls))
    return [[text(c) for c in r] for r in t.findall("./%stbody/%str" % (H, H))] if t is not None else []
missed, false = rows("missed"), rows("false")
if [(r[0], r[1], r[3]) for r in missed] != [("s1", "2025-11-23 11:00:00", "fail")]:
    errors.append("missed labels listed: %r" % missed)
if [(r[0], r[3], r[-1]) for r in false] != [("s3", "chat_spike", "sub_train")]:
    errors.append("false moments listed (with the decoy they fell for): %r" % false)
# Order: scores, missed, false first; the moments table above the charts.
ids = [e.get("id") for e in root.iter() if e.get("id") in ("score", "missed", "false", "runs", "moments", "charts")]
if ids != ["score", "missed", "false", "runs", "moments", "charts"]:
    errors.append("sections in the order %r" % ids)
S = "{http://www.w3.org/2000/svg}"
if not root.findall(".//%srect[@class='decoy']" % S):
    errors.append("no decoy span drawn")
for e in errors:
    print("FAIL: judge.html: " + e)
if not errors:
    print("ok   judge.html: precision/recall/F1/false per stream-hour equal tune's (%s/%s/%s/%s); "
          "the missed label and the false moment are listed" % (tune["precision"], tune["recall"], tune["f1"], tune["fph"]))
sys.exit(1 if errors else 0)
EOF
sqlite3 -json "$tmp/judge.db" "SELECT stream_id FROM chat_summary_minute UNION SELECT stream_id FROM moments" >"$tmp/judge-streams.json"
sqlite3 -json "$tmp/judge.db" "SELECT stream_id, description FROM moments" >"$tmp/judge-moments.json"
python3 "$tmp/check.py" "$tmp/judge.html" "$tmp/judge-streams.json" "$tmp/judge-moments.json" labels ||
	failures=$((failures + 1))
# Each detector's markers on its own metric, and the threshold line inside the plot.
"$T" replay -q --viewer-surge 2 --sentiment-drop 2 -o "$tmp/detectors.db" "$tmp/nasty.jsonl" || exit 99
"$T" report -o "$tmp/detectors.html" "$tmp/detectors.db" || fail "report of detectors.db failed"
python3 - "$tmp/detectors.html" <<'EOF' || failures=$((failures + 1))
import sys
import xml.etree.ElementTree as ET
S = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
errors, seen = [], set()
plot = (40.0, 40.0 + 320 - 40 - 52)  # src/report/svg.c: PLOT_T, PLOT_T + PLOT_H
for svg in root.iter(S + "svg"):
    panels = {}
    for g in svg.findall(S + "g"):
        if g.get("class") == "panel":
            r = g.find(S + "rect")
            name = "".join(g.find(S + "text").itertext()).split()[0]
            panels[name] = (float(r.get("y")), float(r.get("y")) + float(r.get("height")))
    for c in svg.iter(S + "circle"):
        if c.find(S + "title") is None:
            continue
        cls, y = c.get("class").split()[-1], float(c.get("cy"))
        # the pane detector's spikes: on the count it scored (its panel)
        pane = panels.get("fresh-emoters") or panels.get("emote-chatters") or panels.get("chatters") or panels.get("messages")
        want = {"mk-surge": panels.get("avg_viewers"), "mk-drop": panels.get("avg_sentiment"),
                "mk-spike": pane or plot}.get(cls, plot)
        seen.add(cls)
        if want is None or not want[0] - 0.1 <= y <= want[1] + 0.1:
            errors.append("a %s marker at y %.1f, outside its metric's plot %r" % (cls, y, want))
    for p in svg.iter(S + "polyline"):
        if p.get("class") == "thr":
            ys = [float(pt.split(",")[1]) for pt in p.get("points").split()]
            if min(ys) < plot[0] - 0.1:
                errors.append("the threshold line is clipped (y %.1f above the plot)" % min(ys))
if not {"mk-surge", "mk-drop"} <= seen:
    errors.append("no viewer_surge or sentiment_drop marker to check: %r" % seen)
for e in errors[:5]:
    print("FAIL: detectors.html: " + e)
if not errors:
    print("ok   detectors.html: each detector's markers on its own metric (%s), threshold line unclipped" % ", ".join(sorted(seen)))
sys.exit(1 if errors else 0)
EOF

# The baseline drawn is the one each detector compared against: for the pane
# detector (the default), per chat_spike, the count of its metric over the
# scored span against the level +- spread its metadata records, and no
# seed-style band on the chat_rate plot; for the seed detector, that band.
"$T" replay -q --detector=seed -o "$tmp/seed.db" "$fx/demo.jsonl.gz" || exit 99
"$T" report -o "$tmp/seed.html" "$tmp/seed.db" || fail "report of seed.db failed"
"$T" report -o "$tmp/pane.html" "$tmp/demo.db" || fail "report of demo.db failed"
sqlite3 -json "$tmp/demo.db" "SELECT metadata FROM moments WHERE moment_type = 'chat_spike'" >"$tmp/demo-spikes.json"
python3 - "$tmp/pane.html" "$tmp/seed.html" "$tmp/demo-spikes.json" <<'EOF' || failures=$((failures + 1))
import json, re, sys
import xml.etree.ElementTree as ET
S = "{http://www.w3.org/2000/svg}"
errors = []
spikes = [json.loads(r["metadata"]) for r in json.load(open(sys.argv[3]))]
if not spikes or any(m.get("detector") != "pane" for m in spikes):
    errors.append("demo.db: expected pane chat_spikes, got %r" % [m.get("detector") for m in spikes])
boxes, markers = [], []
for svg in ET.parse(sys.argv[1]).getroot().iter(S + "svg"):
    if svg.find(".//%spolygon[@class='band']" % S) is not None:
        errors.append("pane: a seed-style band is drawn on the chat_rate plot")
    for g in svg.findall(S + "g"):
        t = g.find(S + "text")
        if g.get("class") != "panel" or not "".join(t.itertext()).startswith(("fresh-emoters", "emote-chatters", "chatters", "messages")):
            continue
        r = g.find(S + "rect")
        top, h = float(r.get("y")), float(r.get("height"))
        hi = float("".join(g.findall(S + "text")[1].itertext()))
        y = lambda v: top + h - v / hi * h
        for b in g.findall(S + "rect[@class='band']"):
            m = re.search(r"level ([0-9.]+) \u00b1 spread ([0-9.]+).*counted ([0-9]+)", "".join(b.itertext()))
            if not m:
                errors.append("a baseline box without level, spread and count: %r" % "".join(b.itertext()))
                continue
            lvl, spr, val = float(m.group(1)), float(m.group(2)), float(m.group(3))
            boxes.append((lvl, spr, val))
            ya, yb = float(b.get("y")), float(b.get("y")) + float(b.get("height"))
            if abs(ya - y(lvl + spr)) > 1.5 or abs(yb - y(max(lvl - spr, 0))) > 1.5:
                errors.append("box %r at y %.1f..%.1f, want %.1f..%.1f" % (m.groups(), ya, yb, y(lvl + spr), y(max(lvl - spr, 0))))
        for c in svg.iter(S + "circle"):
            if "mk-spike" in c.get("class", "") and c.find(S + "title") is not None:
                markers.append(float(c.get("cy")))
                if not top - 0.1 <= float(c.get("cy")) <= top + h + 0.1:
                    errors.append("a pane chat_spike marker outside its panel")
        if boxes and not any(abs(cy - y(v)) < 1.5 for cy in markers for (_, _, v) in boxes):
            errors.append("no marker at the count the pane detector scored")
want = sorted((round(m["baseline_level"], 2), round(m["baseline_spread"], 2), m["value"]) for m in spikes)
if sorted(boxes) != want:
    errors.append("pane baselines drawn %r, metadata says %r" % (sorted(boxes), want))
if len(markers) != len(spikes):
    errors.append("%d pane chat_spike markers in the panel for %d spikes" % (len(markers), len(spikes)))
seed = ET.parse(sys.argv[2]).getroot()
if seed.find(".//%spolygon[@class='band']" % S) is None:
    errors.append("seed: no baseline band on the chat_rate plot")
if any("".join(t.itertext()).startswith(("fresh-emoters", "emote-chatters", "chatters", "messages")) for t in seed.iter(S + "text")):
    errors.append("seed: a pane panel is drawn")
for e in errors[:5]:
    print("FAIL: baselines: " + e)
if not errors:
    print("ok   baselines: pane spikes drawn against their recorded level +- spread (%d), seed's band kept" % len(spikes))
sys.exit(1 if errors else 0)
EOF

# --- valgrind -------------------------------------------------------------------
if [ "${TELEMETRA_SANITIZERS:-no}" != yes ] && command -v valgrind >/dev/null; then
	if valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=3 "$T" report --labels "$tmp/labels.jsonl" -o "$tmp/vg.html" \
		"$tmp/nasty.db" 2>"$tmp/vg.log"; then
		echo "ok   valgrind report"
	else
		fail "valgrind report:"; cat "$tmp/vg.log"
	fi
	valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
		--error-exitcode=3 "$T" report --labels "$tmp/bad-labels.jsonl" -o "$tmp/vg.html" \
		"$tmp/demo.db" 2>"$tmp/vg.log"
	[ $? = 1 ] || { fail "valgrind report with bad labels:"; cat "$tmp/vg.log"; }
fi

# --- headless Chromium ------------------------------------------------------------
if ! command -v chromium >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing chromium (apt-get install -y chromium) ..."
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y chromium >"$tmp/apt.log" 2>&1 ||
			{ apt-get update >>"$tmp/apt.log" 2>&1 && apt-get install -y chromium >>"$tmp/apt.log" 2>&1; } ||
			{ tail -5 "$tmp/apt.log"; echo "SKIP: cannot install chromium"; [ $failures = 0 ] && exit 77; exit 1; }
	else
		echo "SKIP: chromium is not installed (apt-get install chromium)"
		[ $failures = 0 ] && exit 77
		exit 1
	fi
fi

# chrome LOG ARG... : headless Chromium with the flags this kind of machine
# needs (root, no GPU, no session bus, no network), verbose log to LOG.
chrome() {
	log=$1
	shift
	profile=$(mktemp -d "$tmp/profile.XXXXXX")
	timeout -k 10 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --enable-logging=stderr --v=1 "$@" 2>"$log"
}

# page_errors LOG URL: what counts as an error of the page, one per line.
#  - a console message (":CONSOLE" lines): the page has no script, so any
#    message is the browser's complaint: a script error, a blocked or failed
#    load (the page's Content-Security-Policy refuses every fetch and says so
#    in the console), a parse problem;
#  - a file loaded other than the page itself ("FileURLLoader::Start: URL").
# The browser's own noise (D-Bus, VA-API, GPU sandbox, its background
# requests to Google) is not about the page and is ignored.
page_errors() {
	grep -e ':CONSOLE' "$1"
	grep -e 'FileURLLoader::Start: ' "$1" | grep -v -e "FileURLLoader::Start: $2\$"
}

# First, a canary: a broken page must be caught, or the check checks nothing.
cat >"$tmp/canary.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"/><title>canary</title></head>
<body><img src="missing.png"/><script>console.error("canary")</script></body></html>
EOF
chrome "$tmp/canary.log" --screenshot="$tmp/canary.png" --window-size=800,600 "file://$tmp/canary.html" >/dev/null
if page_errors "$tmp/canary.log" "file://$tmp/canary.html" | grep -q canary &&
	page_errors "$tmp/canary.log" "file://$tmp/canary.html" | grep -q missing.png; then
	echo "ok   chromium reports a console error and a failed load of a broken page"
else
	fail "chromium's log format changed: a broken page is not caught"; tail -20 "$tmp/canary.log"
fi

for name in demo nasty long judge detectors; do
	url="file://$tmp/$name.html"
	png="$tmp/$name.png"
	if ! chrome "$tmp/$name-shot.log" --screenshot="$png" --window-size=1280,2000 "$url" >/dev/null; then
		fail "chromium exited $? on $name.html"; tail -20 "$tmp/$name-shot.log"; continue
	fi
	errs=$(page_errors "$tmp/$name-shot.log" "$url")
	[ -z "$errs" ] || fail "chromium reports errors for $name.html: $errs"
	# A PNG of the window's size, big enough to hold charts rather than a blank page.
	python3 - "$png" <<'EOF' || fail "screenshot of $name.html: see above"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 2000), "size %dx%d" % (w, h)
assert len(data) > 40000, "only %d bytes: a blank page?" % len(data)
idat, i = b"", 8
while i < len(data):
    n, kind = struct.unpack(">I4s", data[i:i + 8])
    if kind == b"IDAT":
        idat += data[i + 8:i + 8 + n]
    i += 12 + n
assert len(set(zlib.decompress(idat))) > 64, "too few distinct pixel values"
print("ok   screenshot %s: %dx%d, %d bytes" % (sys.argv[1].rsplit("/", 1)[-1], w, h, len(data)))
EOF
	# The DOM as Chromium built it: one chart per stream, no parser error.
	chrome "$tmp/$name-dom.log" --dump-dom "$url" >"$tmp/$name-dom.html"
	want=$(grep -c '<svg xmlns=' "$tmp/$name.html")
	got=$(grep -o '<svg [^>]*class="chart"' "$tmp/$name-dom.html" | wc -l)
	if [ "$got" != "$want" ] || grep -q parsererror "$tmp/$name-dom.html"; then
		fail "chromium's DOM of $name.html has $got charts, want $want"
	else
		echo "ok   chromium renders $name.html: $got charts"
	fi
	errs=$(page_errors "$tmp/$name-dom.log" "$url")
	[ -z "$errs" ] || fail "chromium reports errors for $name.html (dump-dom): $errs"
done

[ $failures = 0 ] && echo "all report checks passed"
[ $failures = 0 ]
