#!/usr/bin/env python3
"""Snapshot files end to end (PRODUCT.md §9): --save then `leaktop diff` on
another directory with the fixture binary removed gives the live report's
statistics; frame-limit refusal; corrupt files; and real tracemalloc
snapshots, converted with the recipe of docs/SNAPSHOT_FORMAT.md, compared
by leaktop exactly as CPython compares them.
Usage: test_snapshots.py LEAKTOP FIXTURE_BIN_DIR"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, bindir = sys.argv[1:3]


def lt(*args, cwd=None):
    return subprocess.run([leaktop, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, cwd=cwd)


def rows(report):
    return [(s["size"], s["size_diff"], s["count"], s["count_diff"],
             [(f["function"], f["file"], f["line"]) for f in s["frames"]]) for s in report["stats"]]


tmp = tempfile.mkdtemp(prefix="leaktop-snap-")
try:
    # 1. --save, then read the files back with the binary gone.
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    exe = os.path.join(work, "fx_basic")
    shutil.copy(os.path.join(bindir, "fx_basic_O0"), exe)
    saved = os.path.join(tmp, "saved")
    p = lt("run", "--json", "--save", saved, "--", exe)
    live = {json.loads(l)["label"]: json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")}
    files = sorted(glob.glob(os.path.join(saved, "*.ltsnap")))
    check("--save writes a file per mark and at exit", len(files) == 3, files)
    shutil.rmtree(work)
    elsewhere = os.path.join(tmp, "elsewhere")
    os.makedirs(elsewhere)
    by_label = {f.rsplit("-", 1)[-1].split(".")[0]: f for f in files}
    for group in ("lineno", "traceback", "filename"):
        live_rep = lt("run", "--json", "--group", group, "--save", os.path.join(tmp, "s-" + group), "--",
                      os.path.join(bindir, "fx_basic_O0"))
        reps = [json.loads(l) for l in live_rep.stdout.splitlines() if l.startswith("{")]
        after_live = [r for r in reps if r["label"] == "after"][0]
        f = sorted(glob.glob(os.path.join(tmp, "s-" + group, "*.ltsnap")))
        off = lt("diff", f[0], f[1], "--json", "--group", group, cwd=elsewhere)
        check(f"diff of saved files equals the live report ({group})",
              off.returncode == 0 and rows(json.loads(off.stdout)) == rows(after_live), off.stderr)
    off = lt("diff", by_label["base"], by_label["after"], "--json", cwd=elsewhere)
    check("saved files read without the binary", off.returncode == 0 and
          rows(json.loads(off.stdout)) == rows(live["after"]), off.stderr)
    show = lt("show", by_label["after"], "--json", "--top", "0", cwd=elsewhere)
    rep = json.loads(show.stdout)
    check("show totals equal the snapshot's", (rep["total"]["size"], rep["total"]["count"]) ==
          (live["after"]["total"]["size"], live["after"]["total"]["count"]), rep["total"])
    check("show sorts by size", [s["size"] for s in rep["stats"]] ==
          sorted((s["size"] for s in rep["stats"]), reverse=True))
    text = lt("diff", by_label["base"], by_label["after"], cwd=elsewhere)
    check("diff prints text by default", text.returncode == 0 and "fx_basic.c:" in text.stdout, text.stdout[:200])

    # 2. Different frame limits: traceback grouping refused, lineno fine.
    for n in (4, 8):
        lt("run", "--batch", "--frames", str(n), "--save", os.path.join(tmp, f"f{n}"), "--",
           os.path.join(bindir, "fx_basic_O0"))
    a = sorted(glob.glob(os.path.join(tmp, "f4", "*")))[-1]
    b = sorted(glob.glob(os.path.join(tmp, "f8", "*")))[-1]
    p = lt("diff", a, b, "--group", "traceback")
    check("traceback diff of different frame limits refused", p.returncode != 0 and
          "frame limits" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr)
    check("lineno diff of different frame limits works", lt("diff", a, b).returncode == 0)

    # 3. Corrupt, truncated, empty, missing files: one line naming the file.
    good = open(by_label["after"], "rb").read()
    cases = {"empty": b"", "truncated": good[: len(good) // 2], "garbage": b"\x00garbage" * 50,
             "badjson": b'{"traces": [', "flipped": good[:20] + bytes([good[20] ^ 0xFF]) + good[21:]}
    for name, data in cases.items():
        path = os.path.join(tmp, name + ".ltsnap")
        open(path, "wb").write(data)
        p = lt("show", path)
        check(f"{name} file: one-line error naming it", p.returncode == 1 and path in p.stderr and
              len(p.stderr.strip().splitlines()) == 1, p.stderr)
    p = lt("show", os.path.join(tmp, "missing.ltsnap"))
    check("missing file: one-line error", p.returncode == 1 and "missing.ltsnap" in p.stderr, p.stderr)

    # 4. Real tracemalloc snapshots, converted as the docs show, compared by
    #    leaktop and by CPython: same statistics, same order.
    def make_bytes(n):
        return [bytearray(100 + i % 7) for i in range(n)]

    def make_dict(n):
        return {i: (i,) * 3 for i in range(n)}

    def nest(depth, n):
        return make_bytes(n) if depth == 0 else nest(depth - 1, n)

    tracemalloc.start(5)
    keep = [make_bytes(200)]
    scratch = [make_dict(300), nest(3, 50)]
    old = tracemalloc.take_snapshot()
    del scratch
    keep += [make_bytes(100), make_dict(50), nest(2, 40), [str(i) * 40 for i in range(500)]]
    new = tracemalloc.take_snapshot()
    tracemalloc.stop()
    filt = [tracemalloc.Filter(False, tracemalloc.__file__)]
    old, new = old.filter_traces(filt), new.filter_traces(filt)

    def convert(snapshot, path, label):
        by_stack = {}
        for trace in snapshot.traces:
            stack = tuple((f.filename, f.lineno) for f in reversed(trace.traceback))
            size, count = by_stack.get(stack, (0, 0))
            by_stack[stack] = (size + trace.size, count + 1)
        doc = {"frames_limit": snapshot.traceback_limit, "label": label,
               "traces": [{"size": s, "count": c, "frames": [{"file": f, "line": l} for f, l in st]}
                          for st, (s, c) in by_stack.items()]}
        with open(path, "w") as fp:
            json.dump(doc, fp)

    convert(old, os.path.join(tmp, "old.json"), "before")
    convert(new, os.path.join(tmp, "new.json"), "after")
    for key in ("lineno", "filename", "traceback"):
        want = [(s.size, s.size_diff, s.count, s.count_diff) for s in new.compare_to(old, key)]
        p = lt("diff", os.path.join(tmp, "old.json"), os.path.join(tmp, "new.json"), "--json",
               "--sort", "absolute", "--group", key, "--top", "0")
        got = [(s["size"], s["size_diff"], s["count"], s["count_diff"]) for s in json.loads(p.stdout)["stats"]]
        check(f"tracemalloc snapshots: leaktop diff == compare_to ({key}, {len(want)} rows)", got == want,
              f"{got[:3]} vs {want[:3]}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish())
