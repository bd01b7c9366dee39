#!/usr/bin/env python3
"""Fault tests of the tracer inside hostile hosts: fx_stress and fx_sigexit
under `leaktop run --json` must behave exactly as without the tracer and
report exactly the leaks their markers state.
Usage: test_faults.py LEAKTOP BIN_DIR SRC_DIR PLUGIN CASE"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
from expect import check_report, markers, run_json  # noqa: E402

leaktop, bindir, srcdir, plugin, case = sys.argv[1:6]


def run_case(name, argv, labels):
    native = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    status, reports, err = run_json(leaktop, argv)
    if status != native.returncode:
        sys.exit(f"FAIL: {name}: status {status} traced, {native.returncode} native; {err.strip()}")
    if status != 0:
        sys.exit(f"FAIL: {name} reported problems: {err.strip()}")
    spec = markers(os.path.join(srcdir, name + ".c"))
    problems = []
    for label in labels:
        rep = [r for r in reports if r["label"] == label]
        if not rep:
            sys.exit(f"FAIL: {name}: no {label} report in {[r['label'] for r in reports]}")
        problems += check_report(rep[-1], spec[label], f"{name} [{label}]")
    if problems:
        sys.exit("FAIL:\n  " + "\n  ".join(problems))
    print(f"ok: {name}")


if case == "stress":
    run_case("fx_stress", [os.path.join(bindir, "fx_stress"), plugin], ["after"])
elif case == "sigexit":
    run_case("fx_sigexit", [os.path.join(bindir, "fx_sigexit")], ["exit"])
