#!/usr/bin/env python3
"""Item 8 of issue 10 and issue 11's option table: a LEAKTOP_* value out of
range, or unreadable, is said on stderr with the value used (never silently
replaced), by the traced process only; a full trace table is reported:
"traces_dropped" on every JSON report, a line on stderr, totals exact."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, exit_report, finish, fx, leaktop, reports, run, totals  # noqa: E402

tracer = os.path.join(os.path.dirname(os.path.dirname(leaktop)), "lib", "leaktop", "libleaktop.so")


def standalone(**env):
    """The fixture with the tracer preloaded and no launcher; its segment removed after."""
    p = subprocess.Popen([fx("fx_stacks"), "2"], env=dict(os.environ, LD_PRELOAD=tracer, **env),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    for name in os.listdir("/dev/shm"):
        if name.startswith(f"leaktop-{os.geteuid()}-{p.pid}-"):
            os.unlink(os.path.join("/dev/shm", name))
    return p.returncode, err


cases = [
    ({"LEAKTOP_MAX_TRACES": "5"}, "leaktop: LEAKTOP_MAX_TRACES=5 is out of range 1024..16777216: using 1024"),
    ({"LEAKTOP_FRAMES": "999"}, "leaktop: LEAKTOP_FRAMES=999 is out of range 1..252: using 252"),
    ({"LEAKTOP_FRAMES": "abc"}, "leaktop: LEAKTOP_FRAMES=abc is not a number: using 32"),
    ({"LEAKTOP_UNWIND": "fastest"},
     "leaktop: LEAKTOP_UNWIND=fastest is not one of fast, libunwind, verify: using fast"),
]
for env, line in cases:
    rc, err = standalone(**env)
    check(f"{env}: said once, with the value used", rc == 0 and err.splitlines() == [line], (rc, err))
rc, err = standalone(LEAKTOP_FRAMES="12")
check("a value in range: nothing said", rc == 0 and err == "", err)
rc, err = standalone(LEAKTOP_MAX_TRACES="5", LEAKTOP_PID="1")
check("a dormant process (not the launched one) stays quiet", rc == 0 and err == "", err)

argv = [leaktop, "run", "--batch", "--json", "--", fx("fx_stacks"), "11"]
ref = run(argv)
full = run(argv, env=dict(os.environ, LEAKTOP_MAX_TRACES="1024"))
reps = reports(full)
dropped = [r.get("traces_dropped") for r in reps]
check("every report carries traces_dropped", reps and None not in dropped and len(reps) >= 2, dropped)
check("without a limit nothing is dropped", [r.get("traces_dropped") for r in reports(ref)] == [0, 0],
      [r.get("traces_dropped") for r in reports(ref)])
n = exit_report(full)["traces_dropped"] if reps else 0
check("stacks past the table are counted (2048 made, 1023 ids)", n >= 2048 - 1023, n)
check("and said on stderr, with why",
      f"leaktop: {n} allocation(s) charged to <unknown>: the trace table is full (1024 traces, LEAKTOP_MAX_TRACES)"
      in full.stderr, full.stderr)
check("totals stay exact", totals(exit_report(full)) == totals(exit_report(ref)),
      (totals(exit_report(full)), totals(exit_report(ref))))
finish()
