#!/usr/bin/env python3
"""Item 2 of issue 10: a 64 MiB /dev/shm (Docker's default). The program
makes 524,288 distinct stacks, which is more than the segment can hold: it
must exit normally (no SIGBUS), and leaktop's exit report must be exact
(the same totals as without the limit), with the stacks that found no room
charged to <unknown> and counted, and said. Also when another program
fills /dev/shm while the segment grows (both ways of committing pages),
and when there is no room at all: tracing does not start, and leaktop says
so with its own status (4) instead of an empty report."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from segtest import (check, exit_report, finish, fx, in_small_shm, leaktop, run, can_unshare,  # noqa: E402
                     skip, totals)

if not can_unshare():
    skip("needs root and mount namespaces (unshare -m)")

BITS = "19"
argv = [leaktop, "run", "--batch", "--json", "--", fx("fx_stacks"), BITS]
free = run(argv, timeout=300)
ref = totals(exit_report(free))
check("unlimited /dev/shm: exact report, nothing dropped",
      free.returncode == 0 and ref and ref[1] >= 1 << 19 and exit_report(free).get("traces_dropped") == 0,
      (free.returncode, ref, free.stderr[-300:]))

cases = [
    ("64 MiB /dev/shm: the trace table is sized to it", [], "the trace table is full", {}),
    ("64 MiB /dev/shm filled by another file as the segment grows", ["40"], "/dev/shm is full", {}),
    ("the same, pages committed with fallocate", ["40"], "/dev/shm is full", {"LEAKTOP_COMMIT": "fallocate"}),
]
for what, extra, why, env in cases:
    p = in_small_shm("64m", argv + extra, env=dict(os.environ, **env))
    rep = exit_report(p)
    check(f"{what}: the program exits normally", p.returncode == 0, (p.returncode, p.stderr[-400:]))
    check(f"{what}: exit totals exact", totals(rep) == ref, (totals(rep), ref))
    dropped = rep.get("traces_dropped", 0) if rep else 0
    check(f"{what}: stacks without room are counted", dropped > 0, rep and {k: rep[k] for k in rep if k != "stats"})
    check(f"{what}: and said on stderr", f"{dropped} allocation(s) charged to <unknown>: {why}" in p.stderr,
          p.stderr[-400:])
    check(f"{what}: no signal, no segment left", rep and rep["reason"] == "exit" and
          p.stderr.rstrip().endswith("left in /dev/shm:"), p.stderr[-300:])

# No room even for the first pages: tracing cannot start. Not an empty success.
p = in_small_shm("64k", [leaktop, "run", "--batch", "--json", "--", fx("fx_stacks"), "4"])
check("no room at all: distinct status 4", p.returncode == 4, (p.returncode, p.stderr))
check("no room at all: the tracer says why", "no room for its first pages): tracing is off" in p.stderr, p.stderr)
check("no room at all: leaktop says tracing did not start",
      "the tracer did not start" in p.stderr and not exit_report(p), p.stderr)
finish()
