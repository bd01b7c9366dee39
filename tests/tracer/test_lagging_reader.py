#!/usr/bin/env python3
"""A reader that lags far behind the ring: fx_marks takes 50,000 marks in a
tight loop. leaktop must skip what was overwritten (saying so), read marks
in order, and never report a torn slot: for every report of mark i,
count - i and size - 100 i are the same.
Usage: test_lagging_reader.py LEAKTOP FX_MARKS"""
import json
import subprocess
import sys

leaktop, fx = sys.argv[1:3]
p = subprocess.run([leaktop, "run", "--json", "--", fx], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   text=True, timeout=120)
reports = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
marks = [r for r in reports if r["reason"] == "mark"]
idx = [int(r["label"][1:]) for r in marks]
problems = []
if p.returncode != 0:
    problems.append(f"status {p.returncode}: {p.stderr}")
if not marks or idx != sorted(set(idx)):
    problems.append(f"marks not read in order: {idx[:20]}")
if len(marks) == 50000:
    problems.append("no mark was skipped: the test did not make the reader lag")
elif "overwritten" not in p.stderr:
    problems.append(f"skipped marks not reported: {p.stderr!r}")
if idx and idx[-1] != 49999:
    problems.append(f"the newest marks were not read at the end (last {idx[-1]})")
counts = {r["total"]["count"] - i for r, i in zip(marks, idx)}
sizes = {r["total"]["size"] - 100 * i for r, i in zip(marks, idx)}
if len(counts) != 1 or len(sizes) != 1:
    problems.append(f"a torn or mixed snapshot was reported: count-i {sorted(counts)[:5]}, size-100i {sorted(sizes)[:5]}")
print(f"{len(marks)} of 50000 marks read, in order, all consistent" if not problems else "FAIL: " + "; ".join(problems))
sys.exit(1 if problems else 0)
