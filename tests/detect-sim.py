#!/usr/bin/env python3
"""detect-sim.py: a model of the default (pane) detector and of tune's
scoring, to try count-model variants on gen sets without building them.

It replays what src/core/detector.c's pane method computes (doc/decisions.md,
"What pane computes"): per stream, the 10 s panes of chat (late events,
whose newest window has closed, dropped as the windower drops them), each
pane judged against the previous H = 90 panes: 3-IQR fence, level (sum +
0.5) / n, dispersion floored, mid-p negative-binomial tail; the 2-pane sum
against the history's own 2-pane sums; Sidak over the tests; anomalous when
z > 3 and the winning test's excess >= min excess; consecutive anomalous
windows merged; episodes, matching and F1 as tune counts them (tolerance
30 s).  At the default configuration it reproduces `tune`'s figures on the
small sets (seeds 1-10, mean F1: chatters 0.565 here, 0.562 by tune;
emote-chatters 0.660 and 0.660), so a variant's figure here is what the C
detector would give, to within a label or two per seed.

Variants (--variant, comma-separated, each scored on every seed):
  chatters        the default: distinct chatters per pane
  messages        messages per pane
  reactions       messages that carry an emote
  emote-chatters  distinct chatters who sent a message with an emote
  chatters+emote-chatters  both metrics, every span of each a test
                  (Sidak over 4)
  any of them with :e=N (min excess), :f=PHI (dispersion floor), :L=a/b
  (spans in panes, e.g. L=1/2/3), :h=H (history panes).

Usage: tests/detect-sim.py [--variant V,...] DIR SET SEED...
  with DIR/SET-SEED.{jsonl,labels} (tests/bench-detect-seeds.sh with
  BENCH_DATA keeps them).
"""
import argparse
import hashlib
import collections
import datetime
import json
import math
import os
import statistics
import sys

PANE = 10_000_000
WINDOW_PANES = 6
DELAY = 10_000_000
TOL = 30_000_000


def us(ts):
    ts = ts.replace(" ", "T").rstrip("Z")
    d = datetime.datetime.fromisoformat(ts).replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


RAID_OUT = ("TwitchUnity RAID", "GivePLZ we come", "OUR STREAMER SENT", "raid raid raid")


def load_panes(path, raid_out_emotes=False, extra_emotes=0.0):
    """stream -> {pane: {metric: count}} of the events the windower keeps.
    raid_out_emotes: count gen's outgoing raid lines (typed emote names) as
    carrying emotes, as Twitch would tag them; extra_emotes: give that
    fraction of the messages without an emote one (a hash of the event id),
    i.e. chat that uses emotes more in ordinary times."""
    per = collections.defaultdict(dict)
    maxts = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if not isinstance(o, dict) or not isinstance(o.get("timestamp"), str):
                continue
            try:
                t = us(o["timestamp"])
            except (ValueError, TypeError):
                continue
            if o.get("type") not in ("chat", "viewer") or not isinstance(o.get("stream_id"), str):
                continue
            if maxts is None or t > maxts:
                maxts = t
            p = t // PANE
            if (p + 1) * PANE <= maxts - DELAY:
                continue  # late: the window this pane is newest in has closed
            if o["type"] != "chat":
                continue
            c = per[o["stream_id"]].get(p)
            if c is None:
                c = per[o["stream_id"]][p] = [0, set(), 0, set()]
            u = str(o.get("user_id"))
            c[0] += 1
            c[1].add(u)
            emo = bool(o.get("emotes"))
            msg = o.get("message") if isinstance(o.get("message"), str) else ""
            if not emo and raid_out_emotes and msg.startswith(RAID_OUT):
                emo = True
            if not emo and extra_emotes > 0:
                h = int(hashlib.md5(str(o.get("event_id")).encode()).hexdigest()[:8], 16)
                emo = h < extra_emotes * 2 ** 32
            if emo:
                c[2] += 1
                c[3].add(u)
    out = {}
    for sid, panes in per.items():
        p0, p1 = min(panes), max(panes)
        ser = {"messages": [], "chatters": [], "reactions": [], "emote-chatters": []}
        for p in range(p0, p1 + 1):
            c = panes.get(p)
            ser["messages"].append(c[0] if c else 0)
            ser["chatters"].append(len(c[1]) if c else 0)
            ser["reactions"].append(c[2] if c else 0)
            ser["emote-chatters"].append(len(c[3]) if c else 0)
        out[sid] = (p0, ser)
    return out


def nb_tail(x, m, phi):
    """Mid-p upper tail P(X > x) + P(X = x)/2 of NegBin(mean m, var m + phi m^2)."""
    r = 1.0 / phi
    lp, lq = math.log(r / (r + m)), math.log(m / (r + m))
    base = r * lp - math.lgamma(r)
    cdf = 0.0
    pmf_x = 0.0
    for j in range(int(x) + 1):
        pj = math.exp(base + math.lgamma(j + r) - math.lgamma(j + 1) + j * lq)
        cdf += pj
        pmf_x = pj
    p = 1.0 - cdf + 0.5 * pmf_x
    return min(max(p, 1e-300), 1.0)


def quantile(v, q):
    pos = q * (len(v) - 1)
    i = int(pos)
    if i + 1 >= len(v):
        return v[-1]
    return v[i] + (pos - i) * (v[i + 1] - v[i])


def judge(values, sorted_values, x, floor):
    """(p, excess) of x against the span sums `values` (sorted copy given)."""
    n = len(values)
    q1, q3 = quantile(sorted_values, 0.25), quantile(sorted_values, 0.75)
    lo, hi = q1 - 3 * (q3 - q1) - 1, q3 + 3 * (q3 - q1) + 1
    c = [lo if v < lo else hi if v > hi else v for v in values]
    m = (sum(c) + 0.5) / n
    ss = sum((v - m) ** 2 for v in c)
    phi = (ss / n - m) / (m * m)
    if not phi > floor:
        phi = floor
    return nb_tail(x, m, phi), x - m


def probit_upper(p):
    """z with P(Z > z) = p (bisection on erfc; exact enough for a threshold)."""
    lo, hi = -40.0, 40.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


Z3_P = 0.5 * math.erfc(3 / math.sqrt(2))  # P(Z > 3)


def parse_variant(v):
    parts = v.split(":")
    cfg = {"metrics": parts[0].split("+"), "e": 5.0, "f": 0.1, "L": [1, 2], "h": 90,
           "z": 3.0, "name": v}
    for p in parts[1:]:
        k, val = p.split("=")
        if k == "L":
            cfg["L"] = [int(a) for a in val.split("/")]
        elif k == "h":
            cfg["h"] = int(val)
        else:
            cfg[k] = float(val)
    return cfg


def detect_stream(p0, ser, cfg):
    """Anomalous panes (indexes into the series) of one stream."""
    H, minh = cfg["h"], 30
    out = []
    n = len(ser["messages"])
    tests = [(m, L) for m in cfg["metrics"] for L in cfg["L"]]
    ntests = len(tests)
    pthr = 1 - (1 - Z3_P) if cfg["z"] == 3.0 else 0.5 * math.erfc(cfg["z"] / math.sqrt(2))
    # sorted span sums of the history, per test, maintained as the window slides
    for i in range(n):
        if i < minh:
            continue
        lo = max(0, i - H)
        best_p, best_ex = 2.0, 0.0
        for m, L in tests:
            v = ser[m]
            hist = v[lo:i]
            if L == 1:
                sums = hist
                x = v[i]
            else:
                if len(hist) < 2 * L - 1:
                    continue
                x = sum(v[i - L + 1:i + 1])
                base = hist[:len(hist) - (L - 1)]
                sums = [sum(base[j:j + L]) for j in range(len(base) - L + 1)]
            p, ex = judge(sums, sorted(sums), x, cfg["f"])
            if p < best_p:
                best_p, best_ex = p, ex
        if best_p > 1:
            continue
        p_all = 1 - (1 - best_p) ** ntests if best_p > 1e-12 else ntests * best_p
        if p_all < pthr and best_ex >= cfg["e"]:
            out.append(i)
    return out


def score(labels, episodes, stream_hours):
    by = collections.defaultdict(list)
    for lab in labels:
        by[lab[0]].append(lab)
    matched_eps = 0
    found = {}
    for sid, a, b, first_end in episodes:
        hit = False
        for lab in by.get(sid, []):
            if a <= lab[2] + TOL and b > lab[1] - TOL:
                hit = True
                d = (first_end - lab[1]) / 1e6
                key = (lab[0], lab[1])
                if key not in found or a < found[key][0]:
                    found[key] = (a, d)
        matched_eps += hit
    tp, fp = len(found), len(episodes) - matched_eps
    prec = matched_eps / len(episodes) if episodes else 0.0
    rec = tp / len(labels) if labels else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    delays = sorted(d for _, d in found.values())
    med = statistics.median(delays) if delays else float("nan")
    return prec, rec, f1, fp / stream_hours, med


def run(panes, labels, cfg):
    episodes = []
    hours = 0.0
    for sid, (p0, ser) in panes.items():
        n = len(ser["messages"])
        hours += (n + 2 * WINDOW_PANES - 1) * PANE / 3.6e9
        anom = detect_stream(p0, ser, cfg)
        # moments: runs of consecutive anomalous windows (window = newest pane - 5)
        runs = []
        for i in anom:
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        eps = []
        for a, b in runs:
            s = (p0 + a - WINDOW_PANES + 1) * PANE
            e = (p0 + b + 1) * PANE
            first_end = (p0 + a + 1) * PANE
            if eps and s <= eps[-1][2]:
                eps[-1][2] = max(eps[-1][2], e)
            else:
                eps.append([sid, s, e, first_end])
        episodes.extend(tuple(x) for x in eps)
    return score(labels, episodes, hours)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="chatters")
    ap.add_argument("--raid-out-emotes", action="store_true")
    ap.add_argument("--extra-emotes", type=float, default=0.0)
    ap.add_argument("dir")
    ap.add_argument("set")
    ap.add_argument("seeds", nargs="+")
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variant.split(",")]
    res = collections.defaultdict(list)
    for seed in args.seeds:
        base = os.path.join(args.dir, "%s-%s" % (args.set, seed))
        labels = []
        with open(base + ".labels") as f:
            for line in f:
                o = json.loads(line)
                labels.append((o["stream_id"], us(o["start"]), us(o["end"])))
        panes = load_panes(base + ".jsonl", args.raid_out_emotes, args.extra_emotes)
        for cfg in variants:
            res[cfg["name"]].append(run(panes, labels, cfg))
    print("== detect-sim: set %s, seeds %s%s%s" % (
        args.set, " ".join(args.seeds), ", raid-out lines carry emotes" if args.raid_out_emotes else "",
        ", %.2f of other messages given an emote" % args.extra_emotes if args.extra_emotes else ""))
    for cfg in variants:
        r = res[cfg["name"]]
        f1 = [x[2] for x in r]
        print("   %-32s F1 mean %.3f sd %.3f  P %.3f R %.3f  false/st-h max %.2f  delay max %.1f"
              % (cfg["name"], statistics.mean(f1), statistics.stdev(f1) if len(f1) > 1 else 0,
                 statistics.mean(x[0] for x in r), statistics.mean(x[1] for x in r),
                 max(x[3] for x in r), max(x[4] for x in r)))
        print("      per seed: " + " ".join("%s:%.3f" % (s, x[2]) for s, x in zip(args.seeds, r)))


if __name__ == "__main__":
    sys.exit(main())
