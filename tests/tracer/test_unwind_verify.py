#!/usr/bin/env python3
"""The tracer's own CFI unwinder and stack cache against libunwind: with
LEAKTOP_UNWIND=verify every captured stack is also taken by unw_backtrace
and compared. Fixtures (O0/O2, C++, threads, forks, dlopen/dlclose loops)
and real programs (CPython with every object a malloc, ~30-deep interpreter
stacks; GCC's cc1plus, a recursive-descent parser whose stacks share deep
parts under ever new heads, so most are spliced) must give zero mismatches,
and the fast path must carry almost every capture (else the comparison
proves nothing).
Usage: test_unwind_verify.py TRACER FIXTURE_DIR TRACER_TEST_DIR BENCH_DIR"""
import glob
import os
import re
import shutil
import subprocess
import sys

tracer, fixtures, tracer_tests, bench = sys.argv[1:5]
plugin = os.path.join(fixtures, "libfx_plugin_a.so")
here = os.path.dirname(os.path.abspath(__file__))
cc1plus = subprocess.run(["g++", "-print-prog-name=cc1plus"], capture_output=True, text=True).stdout.strip() \
    if shutil.which("g++") else ""
PY_RECORDS = ("import json, re; d = {str(i): [i, {'k': str(i)}] for i in range(20000)}; "
              "e = json.loads(json.dumps(d)); [re.match(r'(\\d+)', k) for k in e]")
MALLOC_ONLY = {"PYTHONMALLOC": "malloc"}
# (argv, extra environment). Every program here is installed by
# scripts/setup.sh: a missing one fails the test rather than shrink it.
PROGRAMS = [
    ([os.path.join(fixtures, "fx_basic_O0")], {}),
    ([os.path.join(fixtures, "fx_basic_O2")], {}),
    ([os.path.join(fixtures, "fx_cxx_O2")], {}),
    ([os.path.join(fixtures, "fx_threads_O2")], {}),
    ([os.path.join(fixtures, "fx_dlopen_O0"), plugin, os.path.join(fixtures, "libfx_plugin_b.so")], {}),
    ([os.path.join(tracer_tests, "fx_stress"), plugin], {}),
    ([os.path.join(bench, "bench_alloc"), "2", "100000"], {}),
    ([os.path.join(bench, "bench_cxx"), "50000"], {}),
    (["python3", "-S", "-c", "import json; json.dumps([{'a': i} for i in range(20000)])"], {}),
    (["sqlite3", ":memory:", "create table t(a); insert into t values (1),(2); select * from t;"], {}),
    (["python3", "-S", "-c", PY_RECORDS], MALLOC_ONLY),
    ([cc1plus, "-quiet", "-imultiarch", "x86_64-linux-gnu", "-O1", os.path.join(here, "fx_compile.cpp"),
      "-o", os.devnull], {}),
]
LINE = re.compile(r"unwind verify: (\d+) stacks, (\d+) mismatches, (\d+) by libunwind")
failed = 0
total = 0
for argv, extra in PROGRAMS:
    name = os.path.basename(argv[0]) or "cc1plus"
    if not argv[0] or (not shutil.which(argv[0]) and not os.path.exists(argv[0])):
        print(f"FAIL {name}: not installed (scripts/setup.sh installs it)")
        failed += 1
        continue
    env = dict(os.environ, LD_PRELOAD=tracer, LEAKTOP_UNWIND="verify", LEAKTOP_MAX_TRACES="65536", **extra)
    env.pop("LEAKTOP_PID", None)
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=300)
    # A plain preload leaves its segment for a later `leaktop` to read:
    # remove this run's, and only this run's.
    for seg in glob.glob(f"/dev/shm/leaktop-{os.getuid()}-{p.pid}-*"):
        os.unlink(seg)
    err = err.decode(errors="replace")
    m = LINE.search(err)
    if p.returncode != 0 or not m:
        print(f"FAIL {name}: status {p.returncode}, no verify line: {err[-300:]}")
        failed += 1
        continue
    stacks, mismatches, slow = map(int, m.groups())
    total += stacks
    ok = mismatches == 0 and stacks > 0 and slow * 20 <= stacks + slow
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {stacks} stacks by the fast path, {mismatches} mismatches, "
          f"{slow} by libunwind")
print(f"{total} stacks compared; {len(PROGRAMS) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
