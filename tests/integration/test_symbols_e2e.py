#!/usr/bin/env python3
"""Symbols through the whole pipeline (issue: symbols that hold up): the
JSON frames of `leaktop run --group traceback` against the source, for a
-O2 build with forced inlining, its debug info split off (found by
.gnu_debuglink, and by build-id under --debug-dir), a fully stripped copy,
and C++ names.
Usage: test_symbols_e2e.py LEAKTOP BIN_DIR SRC_DIR"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inline_marks  # noqa: E402
from inline_marks import expected_frames  # noqa: E402

leaktop, bindir, srcdir = sys.argv[1:4]


def report(exe, *extra):
    p = subprocess.run([leaktop, "run", "--json", "--group", "traceback", "--top", "0", *extra, "--", exe],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"FAIL: {exe}: {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def row(rep, size):
    rows = [s for s in rep["stats"] if s["size"] == size]
    return rows[0] if rows else None


src = os.path.join(srcdir, "fx_inline.c")
want = expected_frames(src)


def frames_of(r):
    return inline_marks.frames_of(r, len(want))


debugdir = os.path.join(bindir, "fx_inline_debugdir")
for variant, extra in (("fx_inline", ()), ("fx_inline_debuglink", ()),
                       ("fx_inline_buildid", ("--debug-dir", debugdir))):
    rep = report(os.path.join(bindir, variant), *extra)
    r = row(rep, 7777)
    got = frames_of(r) if r else None
    check(f"{variant}: inlined chain, innermost first, each at its own line", got == want,
          f"\n   got  {got}\n   want {want}")
p = subprocess.run([leaktop, "run", "--json", "--", os.path.join(bindir, "fx_inline")], stdout=subprocess.PIPE,
                   text=True, timeout=60)
top = row(json.loads(p.stdout.strip().splitlines()[-1]), 7777)
check("lineno grouping uses the innermost line", top and (top["frames"][0]["function"], top["frames"][0]["line"])
      == (want[0][0], want[0][2]), top)

os.environ["LEAKTOP_DEBUG_DIRS"] = "/nonexistent:" + debugdir
r = row(report(os.path.join(bindir, "fx_inline_buildid")), 7777)
check("LEAKTOP_DEBUG_DIRS finds the build-id debug file too", r and frames_of(r) == want, r and frames_of(r))
del os.environ["LEAKTOP_DEBUG_DIRS"]

rep = report(os.path.join(bindir, "fx_inline_stripped"))
rows = [row(rep, n) for n in (7777, 3333, 4444)]
check("stripped: one exact row per call site", all(r and r["count"] == 1 for r in rows),
      [r and (r["size"], r["count"]) for r in rows])
if all(rows):
    tops = [r["frames"][0] for r in rows]
    check("stripped: frames are module+offset, no file", all(f["file"] is None and f["line"] == 0 and
          f["module"] and f["module"].endswith("fx_inline_stripped") for f in tops), tops)
    check("stripped: call sites never merge", len({f["offset"] for f in tops}) == 3, tops)

rep = report(os.path.join(bindir, "fx_names"))
arr, lam = row(rep, 888), row(rep, 2345)
check("C++ template in a namespace, demangled",
      arr and arr["frames"][0]["function"] == "store::detail::Shelf<double, 111>::stock()", arr and arr["frames"][0])
check("C++ lambda, demangled and readable",
      lam and lam["frames"][0]["function"] and "lambda" in lam["frames"][0]["function"] and
      lam["frames"][0]["function"].startswith("main::"), lam and lam["frames"][0])

sys.exit(finish())
