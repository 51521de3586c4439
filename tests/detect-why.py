#!/usr/bin/env python3
"""detect-why.py: why the default detector misses the labels it misses
(issue 8), in the detector's own numbers.

Per data set (a gen event file with its --labels and --decoys), two
replays: the configuration judged (default, or the options given with
--opts), whose moments are matched to the labels as tune matches them (an
episode [start, end) overlapping [label start - 30 s, label end + 30 s]),
and the same configuration with --threshold -50 --min-excess -1000
--no-merge-moments, where every judged window becomes a moment whose
metadata carries what the pane detector computed: the scored count (value,
scored_panes), baseline_level, baseline_dispersion, baseline_panes,
z_score.  For each missed label, the window of highest z among those whose
scored pane ends in [label start + 10 s, label end + 20 s], and its cause:

  warm-up     no judged window (z NULL: the stream's first min-baseline)
  min-excess  z above the threshold, but count - level < min excess
  z 2..3      z between 2 and the threshold (3)
  z < 2

Then, with tests/detect-oracle.py's oracle (the least count the stream's
own ordinary panes reach at most at the nominal rate, on any of its four
metrics and spans), each cause split into labels a detector could tell
from the stream's ordinary chat ("separable") and those within it
("noise").

Usage: tests/detect-why.py [--telemetra BIN] [--opts "OPTIONS"] [--list]
         DIR SET SEED...
  with DIR/SET-SEED.{jsonl,labels,decoys} (tests/bench-detect-seeds.sh
  with BENCH_DATA keeps them).  The pane detector only (the metadata
  fields are its own).
"""
import argparse
import collections
import importlib.util
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile

TOL = 30_000_000
HERE = os.path.dirname(os.path.abspath(__file__))


def load_oracle():
    spec = importlib.util.spec_from_file_location("oracle", os.path.join(HERE, "detect-oracle.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def replay(tel, opts, path, db):
    if os.path.exists(db):
        os.remove(db)
    subprocess.run([tel, "replay", "-q", "-o", db] + opts + [path], check=True)
    return sqlite3.connect(db)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--telemetra", default=os.path.join(os.getcwd(), "src", "telemetra"))
    ap.add_argument("--opts", default="", help="options of the configuration judged")
    ap.add_argument("--list", action="store_true", help="print every missed label")
    ap.add_argument("dir")
    ap.add_argument("set")
    ap.add_argument("seeds", nargs="+")
    args = ap.parse_args()
    oracle = load_oracle()
    opts = shlex.split(args.opts)
    causes = {}
    found = total = 0
    with tempfile.TemporaryDirectory(prefix="telemetra-why.") as tmp:
        for seed in args.seeds:
            base = os.path.join(args.dir, "%s-%s" % (args.set, seed))
            labels = oracle.load_intervals(base + ".labels")
            con = replay(args.telemetra, opts, base + ".jsonl", os.path.join(tmp, "d.db"))
            mom = collections.defaultdict(list)
            thr, min_ex = 3.0, 5.0  # the defaults; the judged configuration's from its moments
            for sid, meta in con.execute("select stream_id, metadata from moments"):
                m = json.loads(meta)
                mom[sid].append((oracle.us(m["window_start"]), oracle.us(m["window_end"])))
                thr, min_ex = m.get("threshold", thr), m.get("min_excess", min_ex)
            con.close()
            con = replay(args.telemetra, opts + ["--threshold", "-50", "--min-excess", "-1000",
                                                 "--no-merge-moments"],
                         base + ".jsonl", os.path.join(tmp, "a.db"))
            wins = collections.defaultdict(list)
            for sid, meta in con.execute("select stream_id, metadata from moments"):
                m = json.loads(meta)
                wins[sid].append((oracle.us(m["scored_end"]), m))
            con.close()
            for sid, a, b, kind in labels:
                total += 1
                if any(s <= b + TOL and e > a - TOL for s, e in mom[sid]):
                    found += 1
                    continue
                ws = [m for e, m in wins[sid] if a + 10_000_000 <= e <= b + 20_000_000]
                if not ws:
                    why, line = "warm-up", "no judged window"
                else:
                    w = max(ws, key=lambda m: m["z_score"])
                    z, ex = w["z_score"], w["value"] - w["baseline_level"]
                    why = ("min-excess" if z > thr and ex < min_ex
                           else "other" if z > thr
                           else "z 2..3" if z > 2 else "z < 2")
                    line = ("z %5.2f  %3.0f in %d pane(s) vs level %5.2f (phi %.2f, %d panes)"
                            "  excess %5.1f" % (z, w["value"], w["scored_panes"],
                                                w["baseline_level"], w["baseline_dispersion"],
                                                w["baseline_panes"], ex))
                causes[(seed, sid, a)] = why
                if args.list:
                    print("   seed %s %s %-5s %3.0f s: %s -> %s" % (seed, sid, kind, (b - a) / 1e6,
                                                                   line, why))

        class Args:
            pass
        oa = Args()
        oa.dir, oa.telemetra = args.dir, args.telemetra
        rows = []
        for seed in args.seeds:
            oracle.analyse(oa, tmp, args.set, seed, rows)
    sep = {(r["seed"], r["stream"], r["start"]): any(r[(m, "ord")] for m in oracle.METRICS)
           for r in rows}
    tab = collections.Counter()
    for k, why in causes.items():
        tab[(why, "separable" if sep.get(k) else "noise")] += 1
    print("== detect-why: set %s, seeds %s, options %s: %d labels, %d found, %d missed"
          % (args.set, " ".join(args.seeds), args.opts or "(defaults)", total, found, len(causes)))
    print("   cause of the miss: separable from the stream's ordinary chat / within it")
    for why in ("warm-up", "min-excess", "z 2..3", "z < 2", "other"):
        a, b = tab[(why, "separable")], tab[(why, "noise")]
        if a or b:
            print("     %-11s %3d / %3d" % (why, a, b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
