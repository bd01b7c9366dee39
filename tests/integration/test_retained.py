#!/usr/bin/env python3
"""Retained since a baseline, exact (PRODUCT.md §10, issue 12): fx_retained
under `leaktop run --batch --json --save DIR`. Every line's size, diff and
retained bytes and blocks at every mark against the first mark; then
against other baselines through the saved files (`leaktop diff A B`, the
frozen "mark A vs mark B" compare): a round-robin cache (diff 0, retained
all of it), a steady leak (retained = its growth since the baseline), a
spike allocated and freed between marks (nothing), a line whose blocks
born before the mark were freed (negative diff, retained 0), realloc of a
block born before the baseline (retained = the new block), a leak under
churn in two threads. Also after SIGKILL, and in sampling mode.
Usage: test_retained.py LEAKTOP FIXTURE_BIN_DIR FIXTURE_SRC_DIR OPT"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402
from expect import row_key, run_json  # noqa: E402

leaktop, bindir, srcdir, opt = sys.argv[1:5]
source = os.path.realpath(os.path.join(srcdir, "fx_retained.c"))
program = os.path.join(bindir, f"fx_retained_{opt}")

lines = {}
with open(source) as f:
    for n, text in enumerate(f, 1):
        m = re.search(r"@retained (\w+)", text)
        if m:
            lines[m.group(1)] = n

# name: (size, size_diff, retained size, retained blocks); None: no row, or
# a row of zeros (everything it made was freed).
VS_M1 = {
    "m1": {"cache": (512, 0, 0, 0), "old": (320, 0, 0, 0), "realloc_src": (100, 0, 0, 0), "leak": None},
    "m2": {"leak": (240, 240, 240, 5), "cache": (512, 0, 512, 8), "old": (128, -192, 0, 0),
           "realloc_src": (0, -100, 0, 0), "realloc": (200, 200, 200, 1), "spike": None},
    "m3": {"leak": (480, 480, 480, 10), "cache": (512, 0, 512, 8), "old": (128, -192, 0, 0),
           "realloc": (200, 200, 200, 1), "thread_leak": (144, 144, 144, 6), "churn": None, "spike": None},
    "m4": {"leak": (720, 720, 720, 15), "cache": (512, 0, 512, 8), "old": (128, -192, 0, 0),
           "realloc": (200, 200, 200, 1), "thread_leak": (144, 144, 144, 6), "churn": None},
}
VS_M1["exit"] = VS_M1["m4"]
# (baseline, new): since a later mark.
BETWEEN = {
    ("m2", "m4"): {"leak": (720, 480, 480, 10), "cache": (512, 0, 512, 8), "realloc": (200, 0, 0, 0),
                   "thread_leak": (144, 144, 144, 6), "old": (128, 0, 0, 0)},
    ("m2", "m3"): {"leak": (480, 240, 240, 5), "cache": (512, 0, 0, 0), "realloc": (200, 0, 0, 0),
                   "thread_leak": (144, 144, 144, 6)},
    ("m3", "m4"): {"leak": (720, 240, 240, 5), "cache": (512, 0, 512, 8), "thread_leak": (144, 0, 0, 0)},
    ("m1", "m3"): VS_M1["m3"],
}


def figures(report, name):
    for st in report["stats"]:
        if row_key(st) == (source, lines[name]):
            r = st["retained"] or {}
            return (st["size"], st["size_diff"], r.get("size"), r.get("count"))
    return None


def check_report(report, want, what):
    check(f"{what}: retained known", report.get("retained_not_known") is None and report["total"]["retained"],
          report.get("retained_not_known"))
    for name, fig in sorted(want.items()):
        got = figures(report, name)
        if fig is None:
            check(f"{what}: {name} holds nothing", got is None or got == (0, got[1], 0, 0), got)
        else:
            check(f"{what}: {name} size, diff, retained bytes and blocks {fig}", got == fig, got)
    total = report["total"]["retained"]
    rows = [s["retained"] for s in report["stats"]]
    check(f"{what}: total retained = the rows' sum",
          total and total["size"] == sum(r["size"] for r in rows) and total["count"] == sum(r["count"] for r in rows),
          (total, len(rows)))


with tempfile.TemporaryDirectory() as save:
    status, reports, err = run_json(leaktop, [program], extra=["--batch", "--save", save])
    check("exit status 0", status == 0, err)
    labels = [r["label"] for r in reports]
    check("reports at m1..m4 and exit", labels == ["m1", "m2", "m3", "m4", "exit"], labels)
    for r in reports:
        if r["label"] in VS_M1:
            check(f"{r['label']}: baseline is m1", r["baseline"] == "m1", r["baseline"])
            check_report(r, VS_M1[r["label"]], f"{r['label']} vs m1")
    files = {}
    for path in glob.glob(os.path.join(save, "*.ltsnap")):
        m = re.search(r"-(m\d|exit)\.ltsnap$", path)
        if m:
            files[m.group(1)] = path
    check("a snapshot file per mark", all(k in files for k in ("m1", "m2", "m3", "m4")), sorted(files))
    for (base, new), want in sorted(BETWEEN.items()):
        if base not in files or new not in files:
            continue
        p = subprocess.run([leaktop, "diff", files[base], files[new], "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if check(f"diff {base} {new}: status 0", p.returncode == 0, p.stderr):
            check_report(json.loads(p.stdout), want, f"diff {base} {new}")
    if "m2" in files and "m4" in files:
        p = subprocess.run([leaktop, "diff", files["m2"], files["m4"]], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60, stdin=subprocess.DEVNULL)
        row = re.search(r"^\+480 B  blocks \+10  total 720 B in 15 blocks  retained 480 B in 10 blocks  .*fx_retained\.c:"
                        + str(lines["leak"]) + " ", p.stdout, re.M)
        check("diff m2 m4 as text: the leak's row says what it retained", row, p.stdout)
        p = subprocess.run([leaktop, "show", files["m4"]], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60, stdin=subprocess.DEVNULL)
        check("show m4: retained since the start is everything live", p.returncode == 0 and re.search(
            r"total 720 B in 15 blocks  retained 720 B in 15 blocks  .*fx_retained\.c:" + str(lines["leak"]) + " ",
            p.stdout, re.M), p.stdout[:600])

# SIGKILL after m4: the final state, read from the segment, keeps the births.
status, reports, err = run_json(leaktop, [program, "kill"], extra=["--batch"])
final = reports[-1] if reports else {}
check("killed: a signal report", final.get("reason") == "signal" and final.get("signal") == 9, final.get("reason"))
if final:
    check_report(final, VS_M1["m4"], "killed by SIGKILL")

# Sampling mode: with a 1-byte mean every block is sampled (weight 1 to the
# byte and block), so the estimates equal the exact figures.
status, reports, err = run_json(leaktop, [program], extra=["--batch", "--sample", "1"])
check("sampled: status 0 and reports", status == 0 and len(reports) == 5, err)
for r in reports:
    if r["label"] in ("m2", "m4"):
        check(f"sampled {r['label']}: said sampled", r.get("sampled") is True)
        check_report(r, VS_M1[r["label"]], f"sampled {r['label']} vs m1")
sys.exit(finish())
