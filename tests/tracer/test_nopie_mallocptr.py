#!/usr/bin/env python3
"""A preloaded tracer in a non-PIE program that takes malloc's address
(the executable then defines "malloc" as its PLT stub): tracing starts and
the totals are exact. It used to stay dormant, taking itself for a copy
loaded by `leaktop attach` (CPython from Debian was not traced at all).
Usage: test_nopie_mallocptr.py LEAKTOP TRACER_BIN_DIR FIXTURE_DIR"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, exit_report, finish, fx, leaktop, run, totals  # noqa: E402

p = run([leaktop, "run", "--batch", "--json", "--", fx("fx_nopie_mallocptr")])
check("traced: exit status 0", p.returncode == 0, (p.returncode, p.stderr))
rep = exit_report(p)
lines = [s for s in (rep or {}).get("stats", []) if "fx_nopie_mallocptr.c" in str(s)]
check("3000 B in 3 blocks at the call through the pointer",
      any(s["size"] == 3000 and s["count"] == 3 for s in lines), (totals(rep), lines[:2]))
finish()
