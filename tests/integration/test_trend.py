#!/usr/bin/env python3
"""Trend and suspects end to end (PRODUCT.md §10): fx_trend under
`leaktop run --json --interval 100 --window 3 --sort rate --fail-on-suspect`;
each line's suspect flag in the exit report as its `@trend NAME SUSPECT`
marker says, the steady leak's rate within 20% of its exact 100000 B/s,
JSON's window_s and trend fields, the rate sort, and exit status 3.
Usage: test_trend.py LEAKTOP FIXTURE_BIN_DIR FIXTURE_SRC_DIR OPT"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402
from expect import row_key, run_json  # noqa: E402

leaktop, bindir, srcdir, opt = sys.argv[1:5]
source = os.path.join(srcdir, "fx_trend.c")
LEAK_BPS = 100000.0   # 1000 B every 10 ms, absolute deadlines: exact on average
# The tolerance: the snapshot times are leaktop's reading times, a few ms
# off the program's ticks; over a 3 s window that is ~1%. A program starved
# on a loaded 2-core VM falls behind and catches up (absolute deadlines),
# which can bend the last samples: 20% covers it without admitting a rate
# that is off by a factor (the churn leak's is ~64000 B/s).
RATE_TOLERANCE = 0.20


def markers():
    found = {}
    with open(source) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"@trend (\w+) (suspect|no)", line)
            if m:
                found[m.group(1)] = (n, m.group(2) == "suspect")
    return found


def row(report, line):
    for st in report["stats"]:
        if row_key(st) == (os.path.realpath(source), line):
            return st
    return None


status, reports, err = run_json(leaktop, [os.path.join(bindir, f"fx_trend_{opt}"), "4"],
                                extra=["--interval", "100", "--window", "3", "--sort", "rate",
                                       "--fail-on-suspect"])
check("exit status 3: suspects remain (--fail-on-suspect)", status == 3, f"status {status}, stderr {err!r}")
check("stderr names --fail-on-suspect", "--fail-on-suspect" in err, err)
if not check("reports: some intervals and an exit", len(reports) >= 10 and reports[-1]["label"] == "exit",
             [r["label"] for r in reports]):
    sys.exit(finish())
check("every report says window_s 3", all(r.get("window_s") == 3 for r in reports))
check("the first report has no history: no trend", all("trend" not in s for s in reports[0]["stats"]))
final = reports[-1]
check("the exit report has a trend on every statistic", all("trend" in s for s in final["stats"]))
check("sort rate is said", final["sort"] == "rate")
rates = [s["trend"]["rate_bps"] for s in final["stats"] if "trend" in s]
check("sort rate: rows by rate descending", rates == sorted(rates, reverse=True), rates)

for name, (line, want) in sorted(markers().items()):
    st = row(final, line)
    if not check(f"{name}: row at line {line} in the exit report", st is not None):
        continue
    got = st["trend"]["suspect"]
    check(f"{name}: suspect is {want}", got == want, f"trend {st['trend']}")

lines = markers()
leak = row(final, lines["leak"][0])
if leak:
    r = leak["trend"]["rate_bps"]
    check(f"leak: rate {r:.0f} B/s within {RATE_TOLERANCE:.0%} of {LEAK_BPS:.0f}",
          abs(r - LEAK_BPS) <= RATE_TOLERANCE * LEAK_BPS)
cache = row(final, lines["cache"][0])
if cache:
    check("cache at plateau: rate 0", cache["trend"]["rate_bps"] == 0, cache["trend"])
old = row(final, lines["only_frees"][0])
if old:
    check("a line that only frees: rate negative", old["trend"]["rate_bps"] < 0, old["trend"])
top = {row_key(s)[1] for s in final["stats"][:2]}
check("sort rate: the two leaks lead", top == {lines["leak"][0], lines["churn_leak"][0]},
      [(row_key(s)[1], s["trend"]) for s in final["stats"][:3]])

# No suspect: --fail-on-suspect keeps the program's status.
status, reports, err = run_json(leaktop, [os.path.join(bindir, f"fx_trend_{opt}"), "1"],
                                extra=["--fail-on-suspect", "--window", "1", "--interval", "300",
                                       "--exclude", "*fx_trend.c"])
check("no suspect: --fail-on-suspect exits 0", status == 0, f"status {status}, stderr {err!r}")
sys.exit(finish())
