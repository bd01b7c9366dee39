#!/usr/bin/env python3
"""The tracer's totals against valgrind memcheck on real Debian programs:
the bytes and blocks live at exit (leaktop's exit report against the empty
baseline) must equal memcheck's "in use at exit" to the byte.
Both runs get the same environment, working directory, stdin and kind of
stdout (../shared/reference/memcheck.md says why each matters).
Usage: test_memcheck.py LEAKTOP WORKDIR"""
import json
import os
import re
import shutil
import subprocess
import sys

leaktop, workdir = sys.argv[1:3]
os.makedirs(workdir, exist_ok=True)
sql = os.path.join(workdir, "q.sql")
with open(sql, "w") as f:
    f.write("create table t(a integer primary key, b text);\n"
            "insert into t(b) values ('x'),('yy'),('zzz');\n"
            "create index i on t(b);\n"
            "select count(*), sum(length(b)) from t;\n")
cmake_script = os.path.join(workdir, "s.cmake")
with open(cmake_script, "w") as f:
    f.write('set(x "a;b;c")\nlist(LENGTH x n)\nstring(REPEAT "y" 1000 big)\n')
pyprog = ("import posix; posix.environ.clear()\n"
          "d = {i: str(i) * 3 for i in range(2000)}\n"
          "keep = [bytearray(100) for _ in range(50)]\n"
          "print(len(d), sum(map(len, keep)))\n")

# (name, argv, stdin file or None, extra environment)
PROGRAMS = [
    ("sqlite3", ["sqlite3", ":memory:"], sql, {}),
    ("ls", ["ls", "-la", "/usr"], None, {}),
    ("sort", ["sort", "/etc/passwd"], None, {}),
    ("python3", ["python3", "-S", "-P", "-c", pyprog], None, {"LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}),
    ("gzip", ["gzip", "-c", "/etc/services"], None, {}),
    # C++: libstdc++ allocates its exception pool before any constructor runs.
    ("cmake", ["cmake", "-P", cmake_script], None, {}),
]

MEMCHECK = shutil.which("valgrind.bin") or "/usr/lib/x86_64-linux-gnu/valgrind/valgrind.bin"
IN_USE = re.compile(r"in use at exit: ([\d,]+) bytes in ([\d,]+) blocks")


def env_for(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAKTOP_", "LD_PRELOAD", "VALGRIND"))}
    env.update(extra)
    return env


def stdin_of(path):
    return open(path) if path else subprocess.DEVNULL


def memcheck(argv, stdin, extra):
    exe = shutil.which(argv[0])
    p = subprocess.run([MEMCHECK, "--tool=memcheck", "--run-libc-freeres=no", "--run-cxx-freeres=no",
                        "--leak-check=no", exe, *argv[1:]], stdin=stdin_of(stdin), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env=env_for(extra), cwd=workdir, timeout=300)
    m = IN_USE.search(p.stderr)
    if not m:
        sys.exit(f"FAIL: memcheck printed no summary for {argv[0]}: {p.stderr[-500:]}")
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def traced(argv, stdin, extra):
    out = os.path.join(workdir, "report.jsonl")
    p = subprocess.run([leaktop, "run", "--json", "--output", out, "--", *argv], stdin=stdin_of(stdin),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env_for(extra),
                       cwd=workdir, timeout=300)
    reports = [json.loads(line) for line in open(out)]
    if p.returncode != 0 or not reports or reports[-1]["reason"] != "exit":
        sys.exit(f"FAIL: {argv[0]} under leaktop: status {p.returncode}, {p.stderr.strip()}")
    total = reports[-1]["total"]
    return total["size"], total["count"]


failed = 0
for name, argv, stdin, extra in PROGRAMS:
    if not shutil.which(argv[0]):
        print(f"skip {name}: not installed")
        continue
    want = memcheck(argv, stdin, extra)
    got = traced(argv, stdin, extra)
    ok = want == got
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: memcheck {want[0]} B in {want[1]} blocks, "
          f"leaktop {got[0]} B in {got[1]} blocks")
print(f"{len(PROGRAMS) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
