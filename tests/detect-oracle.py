#!/usr/bin/env python3
"""detect-oracle.py: where the default detector loses recall on a gen set,
and how many labels any count detector could find (issue 8).

For each data set (a gen event file with its --labels and --decoys), the
default configuration's moments (a `telemetra replay`) are matched to the
labels as tune matches them (an episode [start, end) overlaps [label start
- 30 s, label end + 30 s]).  Then, per stream, from the 10 s panes of the
events:

  messages    chat messages in the pane
  chatters    distinct chatters in the pane (the default metric)
  reactions   messages that carry an emote (the event's "emotes" list),
              i.e. the emote walls an editor finds a clip by
  emote-chatters  distinct chatters with such a message

and their sums over spans of L = 1, 2, 3, 6 panes.  Per label: the largest
span sum of each metric in the label (pane starts in [start - 10 s, end +
10 s]) minus the mean of the same span sums over the 900 s before the label
(the detector's baseline span): its excess.

The oracle: per stream, metric and span, the least count c such that at
most a fraction alpha of the stream's non-label span sums (everything but
labels +- 60 s and the stream's first 300 s; decoys included) reach c.
alpha = 0.00135 is the one-sided p of z = 3 (the threshold's nominal false
rate per test); "any span" splits 2 x 0.00135 (what the default's two
tests spend after Sidak) over the four spans (Bonferroni).  A label is
findable when one of its span sums reaches c: an upper bound for a
detector that knew each stream's whole distribution (it does not need a
baseline estimate; it does not adapt to level changes either).

Usage: tests/detect-oracle.py [--telemetra BIN] [--list] DIR SET SEED...
  with DIR/SET-SEED.{jsonl,labels,decoys} (as tests/bench-detect-seeds.sh
  keeps them with BENCH_DATA).  --list prints every missed label.
"""
import argparse
import collections
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

PANE = 10_000_000
SPANS = (1, 2, 3, 6)
ALPHA = 0.00135
METRICS = ("messages", "chatters", "reactions", "emote-chatters")


def us(ts):
    ts = ts.replace(" ", "T").rstrip("Z")
    d = datetime.datetime.fromisoformat(ts).replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def load_intervals(path):
    out = []
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            out.append((o["stream_id"], us(o["start"]), us(o["end"]), o["kind"]))
    return out


def panes_of(path):
    """stream -> {pane: [messages, set(chatters), reactions]}, first/last pane."""
    per = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, set(), 0, set()]))
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if '"type":"chat"' not in line:
                continue
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if (not isinstance(o, dict) or o.get("type") != "chat"
                    or not isinstance(o.get("timestamp"), str)
                    or not isinstance(o.get("stream_id"), str)):
                continue  # a malformed line: a dead letter to telemetra too
            try:
                p = us(o["timestamp"]) // PANE
            except (ValueError, TypeError):
                continue
            c = per[o["stream_id"]][p]
            c[0] += 1
            c[1].add(str(o.get("user_id")))
            if o.get("emotes"):
                c[2] += 1
                c[3].add(str(o.get("user_id")))
    return per


def series(per_stream):
    """metric -> (first pane, list of counts per pane)."""
    p0, p1 = min(per_stream), max(per_stream)
    out = {}
    for mi, m in enumerate(METRICS):
        v = []
        for p in range(p0, p1 + 1):
            c = per_stream.get(p)
            v.append(0 if c is None else len(c[mi]) if mi in (1, 3) else c[mi])
        out[m] = v
    return p0, out


def sums(v, L):
    """s[i] = v[i - L + 1] + ... + v[i] (the span ending at pane i), i >= L - 1."""
    s = [None] * len(v)
    acc = 0
    for i, x in enumerate(v):
        acc += x
        if i >= L:
            acc -= v[i - L]
        if i >= L - 1:
            s[i] = acc
    return s


def threshold(values, alpha):
    vals = sorted(values)
    n = len(vals)
    allowed = int(alpha * n)  # at most this many may reach c
    # the least c with #(x >= c) <= allowed
    return vals[n - 1 - allowed] + 1 if n > allowed else 0


def moments_of(telemetra, path, tmpdir):
    db = os.path.join(tmpdir, "r.db")
    if os.path.exists(db):
        os.remove(db)
    subprocess.run([telemetra, "replay", "-q", "-o", db, path], check=True)
    con = sqlite3.connect(db)
    out = collections.defaultdict(list)
    for sid, ts, meta in con.execute("select stream_id, timestamp, metadata from moments"):
        md = json.loads(meta)
        out[sid].append((us(ts), us(md.get("window_end"))))
    con.close()
    return out


def analyse(args, tmpdir, set_, seed, agg):
    base = os.path.join(args.dir, "%s-%s" % (set_, seed))
    labels = load_intervals(base + ".labels")
    decoys = load_intervals(base + ".decoys")
    mom = moments_of(args.telemetra, base + ".jsonl", tmpdir)
    per = panes_of(base + ".jsonl")
    tol = 30_000_000
    by_stream = collections.defaultdict(list)
    for lab in labels:
        by_stream[lab[0]].append(lab)
    rows = []
    for sid, labs in sorted(by_stream.items()):
        p0, ser = series(per[sid])
        npanes = len(ser["messages"])
        rate = sum(ser["messages"]) / (npanes * 10.0)
        excl = [False] * npanes
        for i in range(min(30, npanes)):
            excl[i] = True
        for _, a, b, _ in labs:
            for p in range((a - 60_000_000) // PANE - p0, (b + 60_000_000) // PANE - p0 + 1):
                if 0 <= p < npanes:
                    excl[p] = True
        # "ordinary": also without the decoys (+- 60 s): the threshold's
        # nominal rate on ordinary chat only
        excl_d = list(excl)
        for dsid, a, b, _ in decoys:
            if dsid != sid:
                continue
            for p in range((a - 60_000_000) // PANE - p0, (b + 60_000_000) // PANE - p0 + 1):
                if 0 <= p < npanes:
                    excl_d[p] = True
        span_sums = {(m, L): sums(ser[m], L) for m in METRICS for L in SPANS}
        thr = {}
        for (m, L), s in span_sums.items():
            ok = [s[i] for i in range(npanes) if s[i] is not None and not excl[i]
                  and not any(excl[j] for j in range(i - L + 1, i + 1))]
            thr[(m, L, "one")] = threshold(ok, ALPHA)
            thr[(m, L, "any")] = threshold(ok, 2 * ALPHA / len(SPANS))
            ok = [s[i] for i in range(npanes) if s[i] is not None and not excl_d[i]
                  and not any(excl_d[j] for j in range(i - L + 1, i + 1))]
            thr[(m, L, "ord")] = threshold(ok, 2 * ALPHA / len(SPANS))
        for _, a, b, kind in labs:
            found = any(s0 <= b + tol and e0 > a - tol for s0, e0 in mom.get(sid, []))
            lo, hi = (a - PANE) // PANE - p0, (b + PANE) // PANE - p0
            row = {"seed": seed, "start": a, "stream": sid, "rate": rate, "kind": kind, "len": (b - a) / 1e6,
                   "found": found}
            for m in METRICS:
                best_ex = None
                for L in SPANS:
                    s = span_sums[(m, L)]
                    inside = [s[i] for i in range(max(lo + L - 1, 0), min(hi + L, npanes))
                              if s[i] is not None]
                    top = max(inside) if inside else 0
                    pre = [s[i] for i in range(max(lo - 90, L - 1), lo) if s[i] is not None]
                    lvl = sum(pre) / len(pre) if pre else 0.0
                    ex = top - lvl
                    row[(m, L, "top")] = top
                    row[(m, L, "excess")] = ex
                    row[(m, L, "one")] = top >= thr[(m, L, "one")]
                    row[(m, L, "any")] = top >= thr[(m, L, "any")]
                    row[(m, L, "ord")] = top >= thr[(m, L, "ord")]
                    if best_ex is None or ex > best_ex:
                        best_ex = ex
                row[(m, "best_excess")] = best_ex
                row[(m, "any")] = any(row[(m, L, "any")] for L in SPANS)
                row[(m, "ord")] = any(row[(m, L, "ord")] for L in SPANS)
            # total counts over the label vs the 900 s before, scaled to its length
            for mi, m in enumerate(("messages", "reactions")):
                v = ser[m]
                inl = sum(v[max(lo, 0):min(hi + 1, npanes)])
                pre = v[max(lo - 90, 0):max(lo, 0)]
                exp = sum(pre) / len(pre) * (hi + 1 - lo) if pre else 0.0
                row[(m, "label_total")] = inl
                row[(m, "label_expected")] = exp
            rows.append(row)
    agg.extend(rows)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--telemetra", default=os.path.join(os.getcwd(), "src", "telemetra"))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("dir")
    ap.add_argument("set")
    ap.add_argument("seeds", nargs="+")
    args = ap.parse_args()
    agg = []
    with tempfile.TemporaryDirectory(prefix="telemetra-oracle.") as tmpdir:
        for seed in args.seeds:
            analyse(args, tmpdir, args.set, seed, agg)
    n = len(agg)
    found = [r for r in agg if r["found"]]
    missed = [r for r in agg if not r["found"]]
    print("== detect-oracle: set %s, seeds %s: %d labels, default finds %d (recall %.3f)"
          % (args.set, " ".join(args.seeds), n, len(found), len(found) / n))
    if args.list:
        print("   missed: stream rate(msg/s) kind len(s) | best span excess: msgs chatters reactions"
              " emote-chatters"
              " | label msgs (expected) reactions (expected)")
        for r in missed:
            print("   %s %.3f %-5s %4.0f | %5.1f %5.1f %5.1f %5.1f | %3d (%.1f) %3d (%.1f)" % (
                r["stream"], r["rate"], r["kind"], r["len"], r[("messages", "best_excess")],
                r[("chatters", "best_excess")], r[("reactions", "best_excess")],
                r[("emote-chatters", "best_excess")],
                r[("messages", "label_total")], r[("messages", "label_expected")],
                r[("reactions", "label_total")], r[("reactions", "label_expected")]))

    def med(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else float("nan")

    print("   median best-span excess over the 900 s baseline (found | missed):")
    for m in METRICS:
        print("     %-14s %5.1f | %5.1f" % (m, med([r[(m, "best_excess")] for r in found]),
                                           med([r[(m, "best_excess")] for r in missed])))
    print("   missed labels by stream rate (msg/s): "
          + ", ".join("%s %d/%d" % (name, sum(1 for r in missed if lo <= r["rate"] < hi),
                                     sum(1 for r in agg if lo <= r["rate"] < hi))
                      for name, lo, hi in (("<0.05", 0, 0.05), ("0.05-0.2", 0.05, 0.2),
                                           ("0.2-0.5", 0.2, 0.5), (">=0.5", 0.5, 99))))
    print("   oracle: labels whose span sum reaches the stream's own non-label count exceeded"
          " by a fraction alpha (recall; of the default's misses):")
    print("     %-14s %s  any span (alpha %.5f each)" % (
        "metric", "  ".join("L=%d (%ds)" % (L, 10 * L) for L in SPANS), 2 * ALPHA / len(SPANS))
          + "  any span, fenced on ordinary chat only")
    for m in METRICS:
        cells = []
        for L in SPANS:
            k = sum(1 for r in agg if r[(m, L, "one")])
            km = sum(1 for r in missed if r[(m, L, "one")])
            cells.append("%.3f/%2d" % (k / n, km))
        k = sum(1 for r in agg if r[(m, "any")])
        km = sum(1 for r in missed if r[(m, "any")])
        ko = sum(1 for r in agg if r[(m, "ord")])
        kmo = sum(1 for r in missed if r[(m, "ord")])
        print("     %-14s %s   %.3f/%2d                    %.3f/%2d" % (
            m, "  ".join("%-8s" % c for c in cells), k / n, km, ko / n, kmo))
    both = sum(1 for r in agg if r[("chatters", "any")] or r[("reactions", "any")])
    botho = sum(1 for r in agg if r[("chatters", "ord")] or r[("reactions", "ord")])
    print("     chatters or reactions (any span): %.3f; fenced on ordinary chat: %.3f"
          % (both / n, botho / n))
    print("   (x/k: oracle recall x, and k of the default's %d misses it would find)" % len(missed))


if __name__ == "__main__":
    sys.exit(main())
