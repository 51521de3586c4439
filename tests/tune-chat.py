"""tune-chat.py OUT STREAM:KIND... : hand-made chat, 1 message/s per stream, exactly 10
per 10 s pane, with extra messages in chosen panes (see tests/tune.sh)."""
import sys, datetime
BASE = datetime.datetime(2025, 11, 23, 12, 0, 0, tzinfo=datetime.timezone.utc)
PANES = 45
# extra messages per pane index
KINDS = {"split": {30: 40, 32: 200}, "big": {30: 40}, "small": {30: 6}}
def ts(sec):
    return (BASE + datetime.timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
out = open(sys.argv[1], "w")
lines = []
for arg in sys.argv[2:]:
    stream, kind = arg.split(":")
    extra = KINDS[kind]
    for p in range(PANES):
        for i in range(10):
            lines.append((p * 10 + i, stream, "u%d" % i))
        n = extra.get(p, 0)
        for j in range(n):
            lines.append((p * 10 + 0.5 + 9.0 * j / n, stream, "x%d" % j))
for t, s, u in sorted(lines):
    out.write('{"timestamp":"%s","stream_id":"%s","user_id":"%s","message":"hi"}\n' % (ts(t), s, u))
