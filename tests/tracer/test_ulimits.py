#!/usr/bin/env python3
"""A program under the user's limits runs as it does without the tracer.

`ulimit -f` (RLIMIT_FSIZE): the segment is a file, and growing it past
the limit raises SIGXFSZ, which killed the program at its first
allocation. Now the segment is sized under the limit (fewer traces, said)
or, below its smallest size, tracing is off, said, and the program runs.

A program under an address-space limit (`ulimit -v`, RLIMIT_AS) or a
data limit (`ulimit -d`, RLIMIT_DATA) keeps nearly the room it has
without the tracer. Mapped bytes count against
that limit even where nothing is touched, and the tracer's reservations
are sparse but large: the segment (~700 MiB for a million traces) and a
live-block shadow of 256 MiB for each GiB of address space the heap
reaches. Under 1 GiB, a program that fills 800 MiB in 1 MiB blocks failed
after ~250 MiB when traced. Now the segment takes at most a sixteenth of
the limit (fewer traces, said at start) and the shadow as much again
(blocks spill to the hash table past it): the program must finish, and the
exit report must be exact. Stacks beyond the smaller table go to <unknown>,
counted and said, with exact totals."""
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, exit_report, finish, fx, leaktop, reports, rows_by_function, run, totals  # noqa: E402

GIB = 1 << 30
MIB = 1 << 20


def batch(*program):
    return [leaktop, "run", "--batch", "--json", "--", *program]


def limited(argv, limit=GIB, which=resource.RLIMIT_AS, **kw):
    def set_limit():
        resource.setrlimit(which, (limit, limit))
    return run(argv, timeout=300, preexec_fn=set_limit, **kw)


small = [fx("fx_aslimit"), "4", "1000"]
p = limited([leaktop, "run", "--batch", "--json", "--", *small], limit=MIB, which=resource.RLIMIT_FSIZE)
check("ulimit -f 1 MiB: the program is not killed", "ok" in p.stdout.splitlines(), (p.returncode, p.stderr[-300:]))
check("ulimit -f 1 MiB: the tracer says why it is off",
      "(ulimit -f is smaller than its smallest size): tracing is off" in p.stderr, p.stderr[-300:])
check("ulimit -f 1 MiB: leaktop says tracing did not start, status 4",
      p.returncode == 4 and "the tracer did not start" in p.stderr, (p.returncode, p.stderr[-300:]))
free = run([leaktop, "run", "--batch", "--json", "--", *small])
p = limited([leaktop, "run", "--batch", "--json", "--", *small], limit=48 * MIB, which=resource.RLIMIT_FSIZE)
check("ulimit -f 48 MiB: traced, exact", p.returncode == 0 and totals(exit_report(p)) == totals(exit_report(free)),
      (p.returncode, totals(exit_report(p)), totals(exit_report(free)), p.stderr[-300:]))
check("ulimit -f 48 MiB: the smaller table is said",
      "file size limited to 48 MiB (ulimit -f): keeping at most " in p.stderr, p.stderr[-300:])
tracer = os.path.join(os.path.dirname(leaktop), "..", "lib", "leaktop", "libleaktop.so")
p = limited(small, limit=MIB, which=resource.RLIMIT_FSIZE, env=dict(os.environ, LD_PRELOAD=tracer))
check("ulimit -f 1 MiB, preloaded alone: the program runs to its end", p.returncode == 0 and "ok" in p.stdout,
      (p.returncode, p.stdout, p.stderr[-300:]))

# A program that lowers its own limit after tracing started: the segment
# (and the shadow of its heap's first GiB) are mapped by then, but later
# shadow regions mind the new limit. Under 2 GiB it fills 2037 MiB
# without the tracer, 1087 MiB traced, and 577 MiB with a tracer that
# read the limit only at start.
late = [fx("fx_aslimit"), "900", "20000", "2048"]
native = run(late)
check("lowering its own limit to 2 GiB, the program fits without the tracer",
      native.returncode == 0 and "ok" in native.stdout, (native.returncode, native.stdout[-200:]))
p = run(batch(*late))
mains = rows_by_function(exit_report(p)).get("main") if exit_report(p) else None
check("lowering its own limit to 2 GiB, traced: the program finishes, exact",
      p.returncode == 0 and "ok" in p.stdout.splitlines() and mains == (900 * MIB + 20000 * 200, 900 + 20000),
      (p.returncode, mains, p.stdout[-200:], p.stderr[-300:]))

# Attached to a running program under a limit: the tracer sizes its
# segment to it, and says nothing on the program's stderr (a log, a
# socket, or a file the program reopened as descriptor 2).
with tempfile.TemporaryDirectory() as tmp:
    pidfile = os.path.join(tmp, "pid")
    target = subprocess.Popen([fx("fx_slow"), pidfile, "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB)))
    for _ in range(200):
        if os.path.exists(pidfile) and open(pidfile).read().endswith("\n"):
            break
        time.sleep(0.01)
    a = run([leaktop, "attach", str(target.pid), "--batch", "--json", "--duration", "1"])
    _, target_err = target.communicate(timeout=60)
    check("attached under ulimit -v: the attach reports", a.returncode == 0 and exit_report(a) is None and
          any(r["reason"] == "detach" for r in reports(a)), (a.returncode, a.stderr[-300:]))
    check("attached under ulimit -v: nothing written to the program's stderr", target_err == "", target_err)

if os.environ.get("LEAKTOP_TEST_SANITIZED"):
    print("the ulimit -v and -d cases: skipped, AddressSanitizer's shadow does not fit under them "
          "(the plain build runs them)")
    finish()

big = [fx("fx_aslimit"), "800", "20000"]
native = limited(big)
check("under 1 GiB, the program fits without the tracer", native.returncode == 0 and "ok" in native.stdout,
      (native.returncode, native.stdout[-200:]))

free = run(batch(*big), timeout=300)
ref = totals(exit_report(free))
mains = rows_by_function(exit_report(free)).get("main") if exit_report(free) else None
check("unlimited: the program's own blocks reported exactly",
      free.returncode == 0 and mains == (800 * (1 << 20) + 20000 * 200, 800 + 20000),
      (free.returncode, mains, free.stderr[-300:]))

p = limited(batch(*big))
rep = exit_report(p)
check("under 1 GiB, traced: the program still finishes", p.returncode == 0 and "ok" in p.stdout.splitlines(),
      (p.returncode, p.stdout[-300:], p.stderr[-300:]))
check("under 1 GiB, traced: exit totals exact", totals(rep) == ref, (totals(rep), ref))
check("under 1 GiB, traced: nothing dropped", rep and rep.get("traces_dropped") == 0,
      rep and {k: rep[k] for k in rep if k != "stats"})
check("the smaller table is said at start",
      "address space limited to 1024 MiB (ulimit -v): keeping at most " in p.stderr, p.stderr[-400:])

# `ulimit -d` (RLIMIT_DATA) bounds private writable mappings: the shadow's
# regions, not the shared segment.
p = limited(batch(*big), which=resource.RLIMIT_DATA)
check("under ulimit -d 1 GiB, traced: the program still finishes",
      p.returncode == 0 and "ok" in p.stdout.splitlines(), (p.returncode, p.stdout[-300:], p.stderr[-300:]))
check("under ulimit -d 1 GiB, traced: exit totals exact", totals(exit_report(p)) == ref, (totals(exit_report(p)), ref))

# More distinct stacks than the smaller table holds: the rest is charged
# to <unknown>, counted and said; the totals stay exact.
stacks = batch(fx("fx_stacks"), "17")
free = run(stacks, timeout=300)
ref = totals(exit_report(free))
check("unlimited: 2^17 stacks reported exactly", free.returncode == 0 and ref and ref[1] >= 1 << 17,
      (free.returncode, ref, free.stderr[-300:]))
p = limited(stacks)
rep = exit_report(p)
dropped = rep.get("traces_dropped", 0) if rep else 0
check("under 1 GiB: the program exits normally", p.returncode == 0, (p.returncode, p.stderr[-400:]))
check("under 1 GiB: exit totals exact", totals(rep) == ref, (totals(rep), ref))
check("under 1 GiB: stacks past the table are counted", dropped > 0, rep and {k: rep[k] for k in rep if k != "stats"})
check("under 1 GiB: and said, with the limit as the reason",
      f"{dropped} allocation(s) charged to <unknown>: the trace table is full ("in p.stderr and
      " traces: the program's share of its ulimit -v)" in p.stderr, p.stderr[-400:])
finish()
