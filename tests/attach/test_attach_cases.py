#!/usr/bin/env python3
"""The tracer-side cases of `leaktop attach`, end to end through the
injector, on programs started WITHOUT leaktop: C++ `new` charged to the
user's line, a plugin dlopen'ed after the attach, a PIE linked with full
RELRO (-z now -z relro) and a non-PIE program. Exact bytes and blocks at
file:line in the detach report.

usage: test_attach_cases.py LEAKTOP FX_SOURCE PLUGIN.so FIXTURE...
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

LEAKTOP, FX_SRC, PLUGIN = sys.argv[1:4]
FIXTURES = sys.argv[4:]
TIMEOUT = 30


def source_line(path, marker):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError(marker)


NEW_LINE = source_line(FX_SRC, "// NEW_LINE")
MALLOC_LINE = source_line(FX_SRC, "// MALLOC_LINE")


def stat_at(report, file_end, line=None):
    for s in report["stats"]:
        f = s["frames"][0]
        if f["file"].endswith(file_end) and (line is None or f["line"] == line):
            return s
    return None


def run_case(fixture):
    name = os.path.basename(fixture)
    fx = subprocess.Popen([fixture, PLUGIN], stdout=subprocess.PIPE, text=True)
    check(name + ": ready", fx.stdout.readline() == "ready\n")
    a = subprocess.Popen([LEAKTOP, "attach", "--batch", "--json", str(fx.pid)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = a.stderr.readline()
    check(name + ": attached", line.strip() == "leaktop: attached to %d" % fx.pid, line)
    os.kill(fx.pid, signal.SIGUSR1)
    done = fx.stdout.readline()
    check(name + ": the plugin loaded after the attach", done == "done\n", done)
    a.send_signal(signal.SIGINT)
    out, err = a.communicate(timeout=TIMEOUT)
    reps = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    check(name + ": one detach report", a.returncode == 0 and len(reps) == 1 and reps[0]["reason"] == "detach",
          out + err)
    if reps:
        r = reps[0]
        new = stat_at(r, "fx_attach_cxx.cc", NEW_LINE)
        check(name + ": C++ new charged to the user's line, exact", new and (new["size"], new["count"]) == (25 * 96, 25), r)
        plug = stat_at(r, "fx_plugin.c")
        check(name + ": plugin dlopen'ed after the attach traced, exact",
              plug and (plug["size"], plug["count"]) == (3000, 6), r)
        mal = stat_at(r, "fx_attach_cxx.cc", MALLOC_LINE)
        check(name + ": malloc exact", mal and (mal["size"], mal["count"]) == (3000, 3), r)
    check(name + ": runs on after the detach", fx.poll() is None)
    os.kill(fx.pid, signal.SIGTERM)
    check(name + ": its own exit status", fx.wait(timeout=TIMEOUT) == 0)


if __name__ == "__main__":
    for f in FIXTURES:
        run_case(f)
    sys.exit(finish())
