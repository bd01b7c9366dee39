#!/usr/bin/env python3
"""Item 7 of issue 10: a program that execs into an image the tracer
cannot enter (an empty environment, as `env -i` gives; a static binary)
leaves tracing. leaktop must say so, mark its JSON, and a CI gate
(--fail-on-growth) must fail with its own status (5) instead of passing on
the old image's heap. A failed exec is no exit from tracing: the program
goes on, traced."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, exit_report, finish, fixdir, fx, leaktop, reports, run  # noqa: E402

static = os.path.join(fixdir, "fx_exit_static")
for what, target in [("empty environment", "/bin/true"), ("static binary", static)]:
    base = [leaktop, "run", "--batch", "--json"]
    p = run(base + ["--fail-on-growth", "1K", "--", fx("fx_exec"), target])
    check(f"{what}: --fail-on-growth fails with status 5", p.returncode == 5, (p.returncode, p.stderr))
    check(f"{what}: leaktop says the program left tracing at exec",
          f"the program left tracing at exec ({target})" in p.stderr, p.stderr)
    rep = exit_report(p)
    check(f"{what}: the exit report says so", rep and rep.get("left_tracing_at_exec") == target,
          rep and {k: rep[k] for k in rep if k != "stats"})
    p = run(base + ["--", fx("fx_exec"), target])
    check(f"{what}: without a gate, the program's own status", p.returncode == 0, (p.returncode, p.stderr))
    check(f"{what}: and still said", "left tracing at exec" in p.stderr, p.stderr)

p = run([leaktop, "run", "--batch", "--json", "--fail-on-growth", "1K", "--", fx("fx_exec"), "/nonexistent/prog"])
rep = exit_report(p)
check("failed exec: the program goes on, traced; the gate judges its growth",
      p.returncode == 0 and rep and "left_tracing_at_exec" not in rep and rep["total"]["size"] == 50000,
      (p.returncode, p.stderr, rep and rep["total"]))
check("failed exec: nothing said about leaving", "left tracing" not in p.stderr, p.stderr)
check("marks still reported", any(r["reason"] == "mark" for r in reports(p)), p.stdout[:300])
finish()
