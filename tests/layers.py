#!/usr/bin/env python3
"""The house plan, checked: folders form layers and modules form no cycles.

    core  <-  util  <-  cli  <-  io, gen, ops  <-  tune, report, daemon  <-  cmd  <-  telemetra.c

A file may include headers of its own folder or of a lower layer, never of
a higher one (includes are read from the sources).  And no two modules (a
module is one .c file) depend on each other, directly or through others:
the dependencies are read from the object files with nm, so a call is
caught even where a declaration was copied instead of included.  Nor do
any two files include each other, directly or through others.

util/ holds leaf helpers only: no file there may know the commands (the
CMD_ masks) or their configuration (struct config); that is cli/, the one
options table and what is derived from it.  And every .c file opens with a
comment saying what it is for.

Usage: layers.py SRCDIR BUILDDIR.  Exit 0 when the plan holds, 1 otherwise,
printing each violation on one line.
"""
import os
import re
import subprocess
import sys

RANK = {"core": 0, "util": 1, "cli": 2, "io": 3, "gen": 3, "ops": 3, "tune": 4, "report": 4,
        "daemon": 4, "cmd": 5, "": 6}  # "" is src/ itself: the program's main()

# What only cli/ (and above) may mention: the commands and their options.
COMMAND_WORDS = re.compile(r"\bCMD_[A-Z]+\b|\bstruct config\b|\bconfig_(load|set|build_core)\b")


def folder_of(rel):
    parts = rel.split("/")
    return parts[0] if len(parts) > 1 else ""


def check_includes(src):
    bad = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            mine = folder_of(rel)
            if mine not in RANK:
                bad.append(f"{rel}: folder '{mine}' has no place in the layers")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s*"([a-z_]+)/', line)
                    if not m:
                        continue
                    theirs = m.group(1)
                    if theirs not in RANK:
                        continue
                    if theirs != mine and RANK[theirs] >= RANK[mine]:
                        bad.append(f"{rel}:{no}: {mine or 'src'}/ includes {theirs}/, "
                                   f"which is not a lower layer")
    return bad


def check_util_leaf(src):
    """util/ knows no command: a helper that needs the options belongs in cli/."""
    bad = []
    util = os.path.join(src, "util")
    for name in sorted(os.listdir(util)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(util, name), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                m = COMMAND_WORDS.search(line)
                if m:
                    bad.append(f"util/{name}:{no}: mentions {m.group(0)}: util/ holds leaf "
                               f"helpers; command-line code belongs in cli/")
    return bad


def strong_components(graph):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, comps = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return comps


def check_include_cycles(src):
    """No two files include each other, directly or through others."""
    graph = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            deps = []
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.match(r'\s*#\s*include\s*"([^"]+)"', line)
                    if m and os.path.exists(os.path.join(src, m.group(1))):
                        deps.append(m.group(1))
            graph[os.path.relpath(path, src)] = deps
    return ["files include each other in a cycle: " + " <-> ".join(c)
            for c in strong_components(graph)]


def check_openings(src):
    """Every .c file opens with a comment saying what it is for (README)."""
    bad = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".c") and name != "lexicon_default.c":
                path = os.path.join(root, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    if not f.read(2) == "/*":
                        bad.append(f"{os.path.relpath(path, src)}: does not open with a comment "
                                   f"saying what it is for")
    return bad


def module_of(obj, build):
    """src/io/libio_a-sink.o -> io/sink.c"""
    rel = os.path.relpath(obj, os.path.join(build, "src"))
    d, base = os.path.split(rel)
    base = re.sub(r"^[A-Za-z0-9_]+-", "", base)[:-2] + ".c"
    return os.path.join(d, base) if d else base


def check_cycles(build):
    objs = []
    for root, _, files in os.walk(os.path.join(build, "src")):
        objs += [os.path.join(root, f) for f in files if f.endswith(".o")]
    if not objs:
        return ["no object files under %s/src: build first" % build]
    defined, needs = {}, {}
    for obj in objs:
        mod = module_of(obj, build)
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        needs[mod] = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == "U":
                needs[mod].add(f[1])
            elif len(f) == 3 and f[1] in "TDBR":
                defined[f[2]] = mod
    graph = {m: sorted({defined[s] for s in syms if s in defined and defined[s] != m})
             for m, syms in needs.items()}
    bad = []
    # Upward calls: the object-level twin of the include rule.
    for m, deps in graph.items():
        for d in deps:
            a, b = folder_of(m), folder_of(d)
            if a != b and a in RANK and b in RANK and RANK[b] >= RANK[a]:
                bad.append(f"{m} calls into {d}, which is not a lower layer")
    # Cycles between modules.
    for comp in strong_components(graph):
        bad.append("modules depend on each other in a cycle: " + " <-> ".join(comp))
    return bad


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    src = os.path.join(sys.argv[1], "src")
    bad = (check_includes(src) + check_include_cycles(src) + check_util_leaf(src) +
           check_openings(src) + check_cycles(sys.argv[2]))
    for b in bad:
        print("FAIL", b)
    if bad:
        print(f"{len(bad)} violations of the layers (see README, Development)")
        return 1
    print("ok   includes follow the layers, with no cycle; util/ is leaf code; every .c file "
          "says what it is for; no module cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
