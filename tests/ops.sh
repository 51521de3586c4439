#!/bin/sh
# Operating `telemetra live`, against real components: the mock Kafka
# cluster (tests/kafka-mock), a private PostgreSQL (tests/pg-harness.sh) and
# a real Prometheus server scraping the daemon every second.
#
#   - /healthz answers 200 throughout; /readyz 503 before the assignment
#     and while PostgreSQL is stopped, 200 otherwise;
#   - through Prometheus's query API: records consumed reaches the number
#     produced, telemetra_postgres_up drops to 0 while the database is
#     stopped and comes back to 1, the consumer lag reaches 0;
#   - `promtool check metrics` accepts a scrape;
#   - the log (--log-format json, --log-file): every line a JSON object with
#     ts, level and msg; the effective configuration line; librdkafka's own
#     lines (-X debug=cgrp) at their level; no password given on the
#     command line, in the environment or in the URL, in any line; a
#     stream_id with control characters reaches the log escaped;
#   - SIGHUP reopens the log file and the capture (a rotation), says so, and
#     the daemon carries on; the capture still replays to what was committed;
#   - the deployment files in contrib/: `promtool check rules`, the systemd
#     unit with `systemd-analyze verify`, the Grafana dashboard (JSON,
#     data sources, and each SQL query run against this database).
#
# Every wait polls a condition with a deadline; the only sleep that is not
# a poll interval is the length of the database outage.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"

for p in prometheus promtool python3; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not installed (Debian: prometheus, python3)"; exit 77; }
done

. "$top_srcdir/tests/pg-harness.sh"
. "$top_srcdir/tests/lib.sh"
prom_pid=
harness_on_exit() {
	if [ -n "$prom_pid" ]; then kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; fi
	[ -n "${LIVE_LOGS:-}" ] && [ -n "$tmp" ] && cp "$tmp"/*.log* "$LIVE_LOGS"/ 2>/dev/null
}
harness_begin ops

# http URL: print "STATUS BODY-FIRST-LINE" (status 000 when nothing answers)
cat >"$tmp/get_url.py" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except Exception as e:
    status, body = 0, str(e).encode()
out = sys.argv[2] if len(sys.argv) > 2 else None
if out:
    open(out, "wb").write(body)
print("%03d %s" % (status, body.decode("utf-8", "replace").split("\n")[0]))
EOF
http() { python3 "$tmp/get_url.py" "$@"; }
status_is() { # status_is URL CODE
	got=$(http "$1")
	[ "${got%% *}" = "$2" ]
}

# promq EXPR: the value of the first series of an instant query, or "none"
cat >"$tmp/promq.py" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        res = json.load(r)["data"]["result"]
    print(res[0]["value"][1] if res else "none")
except Exception:
    print("none")
EOF
promq() { python3 "$tmp/promq.py" "$PROM_PORT" "$1"; }
prom_is() { # prom_is EXPR VALUE
	[ "$(promq "$1")" = "$2" ]
}

# --- servers ----------------------------------------------------------------------

SECRET=telemetra-secret
harness_postgres
new_db ops
sql() { sql_in ops "$1"; }
harness_kafka 4

# Traffic with spikes, bad lines, and a stream_id that would forge a log
# line and drive the terminal (ESC, CR, LF) if it were printed raw.
"$TELEMETRA" gen -q --seed 5 --streams 12 --events 40000 --spikes 3 -o "$tmp/gen.jsonl" ||
	hard_error "gen failed"
printf '%s\n' '{"stream_id":"evil\u001b[31m\r\nFAKE error: forged","user_id":"u","message":"hi","timestamp":"2024-01-01T00:00:00Z"}' >"$tmp/evil.jsonl"

# --- the daemon -----------------------------------------------------------------

step "the daemon, before its assignment (every broker down)"
mock "down all"
LOG=$tmp/daemon.log
POSTGRES_PASSWORD=$SECRET "$TELEMETRA" live --brokers "$BS" --postgres "$(db_url ops)" \
	--postgres-password "$SECRET" --group gops --offset-reset earliest --trigger 0.2 --max-batch 2000 \
	--capture "$tmp/daemon.capture" --metrics 127.0.0.1:0 --log-format json --log-file "$LOG" \
	--log-interval 1 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
	-X debug=cgrp -X "sasl.password=$SECRET" >"$tmp/daemon.out" 2>&1 &
daemon=$!
pids="$pids $daemon"
port_logged() { grep -q '"event":"metrics_listening"' "$LOG" 2>/dev/null; }
wait_for "the metrics listener" 30 port_logged || hard_error "no metrics listener"
MPORT=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("event") == "metrics_listening": print(o["port"]); break' "$LOG")
M=http://127.0.0.1:$MPORT
# The mock cluster completes a group's first join after 3 s: not yet ready.
got=$(http "$M/readyz")
case $got in
"503 not ready: no partitions assigned"*) ok "/readyz before the assignment: $got" ;;
*) fail "/readyz before the assignment answered '$got'" ;;
esac
status_is "$M/healthz" 200 && ok "/healthz 200 before the assignment" || fail "/healthz before the assignment"
status_is "$M/nothing" 404 || fail "an unknown path is not 404"
mock "up all"

# Prometheus, scraping the daemon every second, on loopback only.
port_free() { python3 -c 'import socket,sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
PROM_PORT=
for _ in 1 2 3 4 5; do
	p=$((32000 - $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 10000))
	port_free "$p" && { PROM_PORT=$p; break; }
done
[ -n "$PROM_PORT" ] || hard_error "no free port for Prometheus"
mkdir "$tmp/prom-data"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $top_srcdir/contrib/prometheus/telemetra.rules.yml
scrape_configs:
  - job_name: telemetra
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom-data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
prom_ready() { status_is "http://127.0.0.1:$PROM_PORT/-/ready" 200; }
wait_for "Prometheus to be ready" 60 prom_ready || { tail -5 "$tmp/prometheus.log"; hard_error "no Prometheus"; }
ok "Prometheus listens on 127.0.0.1:$PROM_PORT only"

step "consuming"
N=$("$PRODUCE" "$BS" "$fx/streams_interleaved.jsonl" "$fx/malformed.jsonl" "$fx/seed_producer.jsonl" \
	"$tmp/gen.jsonl" "$tmp/evil.jsonl") || hard_error "producing failed"
echo "produced $N messages"
wait_for "Prometheus to see $N records consumed" 120 \
	prom_is 'sum(telemetra_records_consumed_total)' "$N" && ok "records consumed reached $N in Prometheus"
wait_for "the lag to reach 0" 60 prom_is 'sum(telemetra_consumer_lag_records)' 0 && ok "lag reached 0"
wait_for "/readyz to be 200" 30 status_is "$M/readyz" 200 && ok "/readyz 200 while consuming: $(http "$M/readyz")"
prom_is 'telemetra_postgres_up' 1 || fail "telemetra_postgres_up is not 1 while the database is up"
[ "$(promq 'telemetra_dead_letters_total{reason="not_json"}')" != 0 ] || fail "no not_json dead letters counted"
moments=$(sql "SELECT count(*) FROM moments")
[ "$(promq 'sum(telemetra_moments_total)')" = "$moments" ] ||
	fail "moments: Prometheus has $(promq 'sum(telemetra_moments_total)'), PostgreSQL $moments"
[ "$moments" -gt 0 ] || fail "no moments at all"
[ "$(promq 'telemetra_window_commit_delay_seconds_count')" != 0 ] || fail "no window commit delay observed"

http "$M/metrics" "$tmp/scrape.txt" >/dev/null
if promtool check metrics <"$tmp/scrape.txt" >"$tmp/promtool.out" 2>&1; then
	ok "promtool check metrics accepts a scrape ($(grep -c '^[a-z]' "$tmp/scrape.txt") samples)"
else
	fail "promtool check metrics:"; head -10 "$tmp/promtool.out"
fi
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
	process_start_time_seconds telemetra_watermark_seconds telemetra_checkpoint_bytes \
	telemetra_commit_duration_seconds_bucket telemetra_kafka_up telemetra_last_commit_timestamp_seconds; do
	grep -q "^$m" "$tmp/scrape.txt" || fail "the scrape lacks $m"
done

step "PostgreSQL stopped and started again"
pg_harness_stop_server || hard_error "cannot stop PostgreSQL"
wait_for "Prometheus to see telemetra_postgres_up 0" 60 prom_is telemetra_postgres_up 0 &&
	ok "telemetra_postgres_up dropped to 0"
got=$(http "$M/readyz")
case $got in
503*) ok "/readyz while the database is down: $got" ;;
*) fail "/readyz while the database is down answered '$got'" ;;
esac
status_is "$M/healthz" 200 || fail "/healthz is not 200 while the database is down"
sleep 2 # the outage
pg_harness_start_server || hard_error "cannot start PostgreSQL again"
wait_for "Prometheus to see telemetra_postgres_up 1" 60 prom_is telemetra_postgres_up 1 &&
	ok "telemetra_postgres_up came back to 1"
wait_for "/readyz to be 200 again" 30 status_is "$M/readyz" 200 && ok "/readyz 200 after the outage"

step "SIGHUP: log rotation"
mv "$LOG" "$LOG.1"
mv "$tmp/daemon.capture" "$tmp/daemon.capture.1"
kill -HUP "$daemon"
reopened() { grep -q '"event":"capture_reopened"' "$LOG" 2>/dev/null; }
wait_for "the daemon to reopen its log and capture" 30 reopened && ok "SIGHUP reopened the log and the capture"
grep -q '"event":"reopen"' "$LOG" || fail "no reopen line in the new log"
kill -0 "$daemon" 2>/dev/null || fail "the daemon died of SIGHUP"
# More traffic after the rotation goes to the new capture.
"$TELEMETRA" gen -q --seed 6 --streams 3 --events 3000 -o "$tmp/gen2.jsonl" || hard_error "gen failed"
M2=$("$PRODUCE" "$BS" "$tmp/gen2.jsonl") || hard_error "producing failed"
N=$((N + M2))
wait_for "the new records to be consumed" 60 \
	prom_is 'sum(telemetra_records_consumed_total)' "$N" && ok "consuming after the rotation"
[ -s "$tmp/daemon.capture" ] || fail "nothing written to the new capture"
status_is "$M/healthz" 200 || fail "/healthz is not 200 at the end"

kill -TERM "$daemon"
wait "$daemon"
st=$?
[ "$st" -eq 0 ] || fail "the daemon exited $st on SIGTERM"
cat "$LOG.1" "$LOG" >"$tmp/all.log"

step "the log"
python3 - "$tmp/all.log" "$SECRET" >"$tmp/logcheck.out" 2>&1 <<'EOF'
import json, sys
bad = 0
events, libs, levels = set(), 0, set()
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        print("line %d is not JSON (%s): %s" % (n, e, line[:100])); bad += 1; continue
    for k in ("ts", "level", "msg"):
        if k not in o:
            print("line %d lacks %s" % (n, k)); bad += 1
    ts = o.get("ts", "")
    if not (len(ts) == 24 and ts[10] == "T" and ts.endswith("Z")):
        print("line %d: ts %r is not RFC 3339 UTC" % (n, ts)); bad += 1
    levels.add(o.get("level"))
    events.add(o.get("event"))
    if o.get("library") == "librdkafka":
        libs += 1
    if sys.argv[2] in line:
        print("line %d holds the password: %s" % (n, line[:200])); bad += 1
    if "\x1b" in line or "\r" in line:
        print("line %d holds a raw control character" % n); bad += 1
for e in ("configuration", "metrics_listening", "partitions_assigned", "summary",
          "database_outage", "database_recovered", "reopen", "capture_reopened"):
    if e not in events:
        print("no %s event in the log" % e); bad += 1
if not libs:
    print("no librdkafka line in the log (-X debug=cgrp)"); bad += 1
print("%d lines, events %s, %d librdkafka lines, levels %s" % (n, sorted(x for x in events if x), libs, sorted(levels)))
sys.exit(1 if bad else 0)
EOF
if [ $? -eq 0 ]; then ok "log: $(tail -1 "$tmp/logcheck.out")"; else fail "log:"; head -20 "$tmp/logcheck.out"; fi
grep -q 'sasl.password=\*\*\*' "$tmp/all.log" || fail "the -X sasl.password is not shown redacted in the configuration"
[ -s "$tmp/daemon.out" ] && { fail "the daemon wrote to stderr despite --log-file:"; head -3 "$tmp/daemon.out"; }

# The text format: a timestamp and a level on every line.
"$TELEMETRA" live --brokers "$BS" --postgres "postgresql://telemetra:$SECRET@127.0.0.1:1/none" \
	--metrics 'not-an-address' >"$tmp/text.out" 2>&1
[ $? -eq 2 ] || fail "--metrics not-an-address does not exit 2"
grep -q '^20[0-9-]*T[0-9:.]*Z error telemetra live: --metrics not-an-address' "$tmp/text.out" ||
	{ fail "text log line lacks timestamp or level:"; cat "$tmp/text.out"; }
grep -q "$SECRET" "$tmp/text.out" && fail "the password appears in the text log"

# Item 13: a value from input (here a file name) reaches the terminal
# escaped: C0 controls, a C1 control (CSI, U+009B) and a byte that is not
# UTF-8.
evil=$(printf 'no\033[31mfile\r\nFAKE error: forged \302\233c \377')
"$TELEMETRA" replay -o "$tmp/x.db" "$tmp/$evil" >"$tmp/evil.out" 2>&1
if grep -q "$(printf '\033')" "$tmp/evil.out" || [ "$(wc -l <"$tmp/evil.out")" -ne 1 ] ||
	! grep -q 'no\\x1b\[31mfile\\r\\nFAKE error: forged \\u009bc \\xff' "$tmp/evil.out"; then
	fail "a file name with control characters reaches the terminal raw:"; od -c "$tmp/evil.out" | head -5
else
	ok "control characters from input are escaped: $(cat "$tmp/evil.out")"
fi

step "the capture of the rotated run replays to what was committed"
cat "$tmp/daemon.capture.1" "$tmp/daemon.capture" >"$tmp/whole.capture"
"$TELEMETRA" dump "$(db_url ops)" >"$tmp/live.dump" || fail "dump of PostgreSQL failed"
"$TELEMETRA" replay -q --no-final-flush -o "$tmp/replay.db" "$tmp/whole.capture" || fail "replay failed"
"$TELEMETRA" dump "$tmp/replay.db" >"$tmp/replay.dump"
if cmp -s "$tmp/live.dump" "$tmp/replay.dump"; then
	ok "PostgreSQL and the replay of the two capture files agree"
else
	fail "PostgreSQL and the replay of the rotated captures differ:"; diff "$tmp/live.dump" "$tmp/replay.dump" | head
fi

step "contrib/: deployment files"
c=$top_srcdir/contrib
if promtool check rules "$c/prometheus/telemetra.rules.yml" >"$tmp/rules.out" 2>&1; then
	ok "promtool check rules: $(grep -o '[0-9]* rules found' "$tmp/rules.out")"
else
	fail "promtool check rules:"; cat "$tmp/rules.out"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	sed -e "s|@bindir@|$(dirname "$TELEMETRA")|g" -e "s|@sysconfdir@|$tmp|g" -e "s|@docdir@|$tmp|g" \
		-e "s|@systemdsystemunitdir@|$tmp|g" "$c/systemd/telemetra-live.service.in" >"$tmp/telemetra-live.service"
	if systemd-analyze verify --man=no "$tmp/telemetra-live.service" >"$tmp/verify.out" 2>&1; then
		ok "systemd-analyze verify accepts the unit"
	else
		fail "systemd-analyze verify:"; cat "$tmp/verify.out"
	fi
	grep -q '^Type=notify' "$tmp/telemetra-live.service" || fail "the unit is not Type=notify"
else
	echo "skip systemd-analyze verify: systemd-analyze is not installed (Debian: systemd)"
fi

# The compose stack (no Docker here): the seed's services are there, every
# file it mounts or builds from exists, Grafana's provisioned data sources
# are the ones the dashboard defaults to.
cat >"$tmp/compose.py" <<'PY'
import json, os, sys
import yaml
c = sys.argv[1]
d = os.path.join(c, "docker")
compose = yaml.safe_load(open(os.path.join(d, "docker-compose.yml")))
bad = 0
for s in ("kafka", "postgres", "telemetra", "prometheus"):
    if s not in compose["services"]:
        print("docker-compose.yml lacks the %s service" % s); bad += 1
for name, svc in compose["services"].items():
    for v in svc.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith(".") and not os.path.exists(os.path.join(d, src)):
            print("%s mounts %s, which does not exist" % (name, src)); bad += 1
    b = svc.get("build")
    if b and not os.path.exists(os.path.join(d, b["context"], b["dockerfile"])):
        print("%s builds from a missing Dockerfile" % name); bad += 1
ds = yaml.safe_load(open(os.path.join(d, "grafana-provisioning/datasources/telemetra.yml")))
uids = {x["uid"] for x in ds["datasources"]}
dash = json.load(open(os.path.join(c, "grafana/telemetra-dashboard.json")))
for v in dash["templating"]["list"]:
    if v["type"] == "datasource" and v["current"]["value"] not in uids:
        print("the dashboard defaults to data source %s, not provisioned" % v["current"]["value"]); bad += 1
yaml.safe_load(open(os.path.join(d, "prometheus.yml")))
print("%d services" % len(compose["services"]))
sys.exit(1 if bad else 0)
PY
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "skip the compose checks: python3 has no yaml module (Debian: python3-yaml)"
elif python3 "$tmp/compose.py" "$c" >"$tmp/compose.out" 2>&1; then
	ok "docker-compose.yml: $(tail -1 "$tmp/compose.out"), mounts and provisioning consistent"
else
	fail "contrib/docker:"; cat "$tmp/compose.out"
fi

# The example configurations load (live: up to its configuration line).
"$TELEMETRA" live --config "$c/config/live.json" --metrics bad >"$tmp/cfg.out" 2>&1
[ $? -eq 2 ] && grep -q '"brokers":"kafka:9092"' "$tmp/cfg.out" ||
	{ fail "contrib/config/live.json does not load:"; head -3 "$tmp/cfg.out"; }
"$TELEMETRA" replay -q --config "$c/config/replay.json" -o "$tmp/cfg.db" "$fx/streams_interleaved.jsonl" ||
	fail "contrib/config/replay.json does not load"

# The dashboard: JSON, every panel (and query) names a declared data
# source, and every SQL query runs here and returns rows ($__timeFilter
# becomes "always").
cat >"$tmp/dash.py" <<'PY'
import json, os, re, sys
d = json.load(open(sys.argv[1]))
declared = {"${%s}" % v["name"]: v["query"] for v in d["templating"]["list"] if v["type"] == "datasource"}
bad = 0
queries = []
items = [(p["title"], p["datasource"], p["targets"]) for p in d["panels"]]
items += [(a["name"], a["datasource"], [a["target"]]) for a in d["annotations"]["list"]]
for title, ds, targets in items:
    if ds.get("uid") not in declared or declared[ds["uid"]] != ds.get("type"):
        print("panel %r names an undeclared data source %r" % (title, ds)); bad += 1
    if not targets:
        print("panel %r has no query" % title); bad += 1
    for t in targets:
        if t.get("datasource", ds) != ds:
            print("a query of %r names another data source" % title); bad += 1
        if "rawSql" in t:
            queries.append(re.sub(r"\$__timeFilter\(([^)]*)\)", r"(\1) IS NOT NULL", t["rawSql"]))
        elif "expr" not in t:
            print("a query of %r is neither SQL nor PromQL" % title); bad += 1
os.makedirs(sys.argv[2])
for i, q in enumerate(queries):
    open(os.path.join(sys.argv[2], "%02d.sql" % i), "w").write(q + ";\n")
print("%d panels, %d SQL queries" % (len(d["panels"]), len(queries)))
sys.exit(1 if bad else 0)
PY
if python3 "$tmp/dash.py" "$c/grafana/telemetra-dashboard.json" "$tmp/sql" >"$tmp/dash.out" 2>&1; then
	ok "dashboard: $(tail -1 "$tmp/dash.out")"
else
	fail "dashboard:"; cat "$tmp/dash.out"
fi
for q in "$tmp"/sql/*.sql; do
	[ -f "$q" ] || { fail "the dashboard has no SQL query"; break; }
	PGPASSFILE=/dev/null timeout 30 "$PGH_BINDIR/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 \
		-d "$(db_url ops)" -f "$q" >"$tmp/sql.out" 2>&1 ||
		{ fail "dashboard query $(basename "$q") fails: $(cat "$tmp/sql.out")"; continue; }
	[ -s "$tmp/sql.out" ] || fail "dashboard query $(basename "$q") returns no rows: $(head -3 "$q")"
done
# The PromQL of the dashboard, evaluated by the Prometheus that scraped the run.
exprs=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p["targets"]:
        if "expr" in t: print(t["expr"])' "$c/grafana/telemetra-dashboard.json")
printf '%s\n' "$exprs" | while IFS= read -r e; do
	python3 - "$PROM_PORT" "$e" <<'PY' || echo "FAIL: dashboard PromQL rejected by Prometheus: $e" >>"$tmp/promql.fail"
import json, sys, urllib.parse, urllib.request, urllib.error
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    urllib.request.urlopen(url, timeout=5)
except urllib.error.HTTPError as e:
    print(e.read().decode()); sys.exit(1)
PY
done
if [ -s "$tmp/promql.fail" ]; then fail "$(cat "$tmp/promql.fail")"; else ok "every dashboard PromQL query is valid"; fi

[ "$failures" -eq 0 ] || { echo "$failures failures"; tail -n 5 "$tmp/prometheus.log"; exit 1; }
echo "all operating checks passed"
