#!/usr/bin/env python3
"""oracle_test.py: CPython's tracemalloc is the oracle for diff/.

Generates many random pairs of synthetic snapshots, writes them as leaktop
JSON snapshots, and requires diff_oracle_tool (leaktop's grouping, compare,
sort, filters and totals) to print exactly what tracemalloc.Snapshot's
compare_to / statistics / filter_traces give, in the same order:
  - compare_to for lineno, filename, traceback, and cumulative lineno and
    filename (tracebacks generated without repeated keys there, so
    tracemalloc's and leaktop's cumulative rules agree), sort "absolute";
  - leaktop's growth, freed and size sorts against CPython's results sorted
    in Python by the documented keys (tracemalloc's Traceback order breaks
    the ties);
  - statistics() of both snapshots; totals over the filtered traces;
  - _format_size on random integers (every unit, the rounding boundaries,
    both signs) and on random averages (floats).
Usage: oracle_test.py TOOL [--pairs N] [--seed S]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc

FILES = ["a.py", "b.py", "c.py", "d.py", "e.py"]
BLOCK_SIZES = [0, 1, 2, 3, 5, 8, 10, 16, 100, 5000]
PATTERNS = ["a.py", "*.py", "[ab].py", "?.py", "c*", "*", "<unknown>", "[!a].py", "e.p?"]
LIMIT = 4


def random_frames(rng, mode):
    """Frames most recent first. mode 'lineno' forbids repeated (file, line),
    'filename' repeated files: then every cumulative rule agrees."""
    if rng.random() < 0.03:
        return []          # leaktop: no frames; tracemalloc: ('<unknown>', 0)
    frames = []
    depth = rng.randint(1, LIMIT)
    while len(frames) < depth:
        fr = ("<unknown>", 0) if rng.random() < 0.03 else (rng.choice(FILES), rng.randint(1, 5))
        if mode == "lineno" and fr in frames:
            continue
        if mode == "filename" and fr[0] in [f for f, _ in frames]:
            continue
        frames.append(fr)
    return frames


def random_trace(rng, pool):
    return (rng.choice(pool), rng.choice(BLOCK_SIZES), rng.randint(1, 3))


def random_pair(rng, mode):
    pool = [tuple(random_frames(rng, mode)) for _ in range(rng.randint(3, 14))]
    old = [random_trace(rng, pool) for _ in range(rng.randint(0, 12))]
    kept = [t for t in old if rng.random() < 0.6]
    new = kept + [random_trace(rng, pool) for _ in range(rng.randint(0, 12))]
    rng.shuffle(new)
    return new, old


def random_filters(rng):
    if rng.random() < 0.6:
        return []
    out = []
    for _ in range(rng.randint(1, 3)):
        lineno = None if rng.random() < 0.6 else rng.randint(0, 5)
        out.append(tracemalloc.Filter(rng.random() < 0.5, rng.choice(PATTERNS),
                                      lineno=lineno, all_frames=rng.random() < 0.5))
    return out


def random_size(rng):
    """Integers around every unit's 100 and 10240 thresholds, and anywhere."""
    unit = 1024 ** rng.randint(0, 5)
    kind = rng.random()
    if kind < 0.3:
        v = rng.choice([100, 10240]) * unit + rng.randint(-3, 3) * max(1, unit // 2048)
    elif kind < 0.6:
        v = round(rng.uniform(99.94, 99.96) * unit) if unit > 1 else rng.randint(0, 20000)
    else:
        v = rng.randint(0, (1 << 63) - 1) >> rng.randint(0, 62)
    v = min(v, (1 << 63) - 1)       # leaktop sizes are int64
    return -v if rng.random() < 0.3 else v


def write_leaktop_json(path, traces):
    doc = {"frames_limit": LIMIT, "traces": [
        {"size": size * count, "count": count,
         "frames": [{"file": f, "line": l, "function": None} for f, l in frames]}
        for frames, size, count in traces]}
    with open(path, "w") as fp:
        json.dump(doc, fp)


def py_snapshot(traces):
    out = []
    for frames, size, count in traces:
        fr = tuple(frames) if frames else (("<unknown>", 0),)
        out.extend([(0, size, fr, len(fr))] * count)
    return tracemalloc.Snapshot(out, LIMIT)


def filter_arg(f):
    lineno = -1 if f.lineno is None else f.lineno
    return "%s%s:%d:%d" % ("+" if f.inclusive else "-", f.filename_pattern, lineno, f.all_frames)


def key_text(stat):
    # Traceback is oldest first; leaktop prints most recent first.
    return " ".join("%s:%d" % (fr.filename, fr.lineno) for fr in reversed(stat.traceback))


def py_rows(stats, diff):
    rows = []
    for s in stats:
        if diff:
            rows.append("%s\t%d\t%d\t%d\t%d" % (key_text(s), s.size, s.size_diff, s.count, s.count_diff))
        else:
            rows.append("%s\t%d\t0\t%d\t0" % (key_text(s), s.size, s.count))
    return rows


SORT_KEYS = {
    "absolute": lambda s: (abs(s.size_diff), s.size, abs(s.count_diff), s.count, s.traceback),
    "growth": lambda s: (s.size_diff, s.size, abs(s.count_diff), s.count, s.traceback),
    "freed": lambda s: (-s.size_diff, s.size, abs(s.count_diff), s.count, s.traceback),
    "size": lambda s: (s.size, s.count, s.traceback),
}


def total_row(new, old):
    ns = sum(t.size for t in new.traces)
    nc = len(new.traces)
    os_ = sum(t.size for t in old.traces) if old is not None else 0
    oc = len(old.traces) if old is not None else 0
    if old is None:
        return "total\t%d\t0\t%d\t0" % (ns, nc)
    return "total\t%d\t%d\t%d\t%d" % (ns, ns - os_, nc, nc - oc)


class Tool:
    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def run(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        rows = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("oracle tool died on: " + cmd)
            line = line.rstrip("\n")
            if line == "end":
                return rows
            rows.append(line)

    def close(self):
        self.proc.stdin.close()
        return self.proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--sizes", type=int, default=5000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tool = Tool(args.tool)
    checked = failures = 0
    started = time.time()

    def expect(what, cmd, want):
        nonlocal checked, failures
        got = tool.run(cmd)
        checked += 1
        if got != want:
            failures += 1
            if failures <= 5:
                print("MISMATCH %s\n  cmd: %s\n  got:  %s\n  want: %s" % (what, cmd, got, want))

    with tempfile.TemporaryDirectory(prefix="leaktop-oracle-") as tmp:
        for i in range(args.pairs):
            mode = ("none", "lineno", "filename")[i % 3]
            new_t, old_t = random_pair(rng, mode)
            filters = random_filters(rng)
            new_p, old_p = os.path.join(tmp, "new%d.json" % i), os.path.join(tmp, "old%d.json" % i)
            write_leaktop_json(new_p, new_t)
            write_leaktop_json(old_p, old_t)
            new_s = py_snapshot(new_t).filter_traces(filters)
            old_s = py_snapshot(old_t).filter_traces(filters)
            fargs = " ".join(filter_arg(f) for f in filters)
            groupings = [("lineno", False), ("filename", False), ("traceback", False)]
            if mode in ("lineno", "filename"):
                groupings.append(("lineno", True))
            if mode == "filename":
                groupings.append(("filename", True))
            for key, cum in groupings:
                stats = new_s.compare_to(old_s, key, cum)
                for sort, sk in SORT_KEYS.items():
                    ordered = stats if sort == "absolute" else sorted(stats, key=sk, reverse=True)
                    cmd = "compare %s %d %s %s %s %s" % (key, cum, sort, new_p, old_p, fargs)
                    expect("pair %d %s cumulative=%s sort=%s" % (i, key, cum, sort), cmd,
                           py_rows(ordered, True) + [total_row(new_s, old_s)])
                for name, snap, path in (("new", new_s, new_p), ("old", old_s, old_p)):
                    cmd = "stats %s %d %s %s" % (key, cum, path, fargs)
                    expect("pair %d statistics(%s) of %s" % (i, key, name), cmd,
                           py_rows(snap.statistics(key, cum), False) + [total_row(snap, None)])
        for _ in range(args.sizes):
            v = random_size(rng)
            sign = rng.random() < 0.5
            expect("_format_size(%d, %s)" % (v, sign), "size %d %d" % (v, sign),
                   [tracemalloc._format_size(v, sign)])
            avg = rng.randint(0, 1 << rng.randint(1, 50)) / rng.randint(1, 1000)
            expect("_format_size(%r)" % avg, "sizef %r" % avg, [tracemalloc._format_size(avg, False)])
    tool.close()
    print("oracle: %d pairs, %d cases compared against CPython %s, %d mismatches, %.1f s"
          % (args.pairs, checked, sys.version.split()[0], failures, time.time() - started))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
