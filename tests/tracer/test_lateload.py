#!/usr/bin/env python3
"""Issue 13, the tracer's half, without ptrace: programs started without
leaktop dlopen libleaktop.so and call leaktop_attach, as the injector
does. Their final state, read through the watch library and `leaktop
show`, holds what they allocated after the attach, exact to the byte at
file:line, and nothing from before: in a PIE with full RELRO, a non-PIE
with lazy binding, C++ new, a plugin dlopen'ed after the attach (and one
dlmopen'ed into a namespace of its own: left alone), a detach (the GOT
cells get the real functions back) and a second attach (counts from
zero). Then 25 attach/detach cycles while
four threads allocate, reallocate, free and verify their data (each
detach checks that its segment's name is gone); a signal handler installed
before the attach is wrapped (its allocations inside hooks counted); the
same under AddressSanitizer and in a program linked with jemalloc (the
calls go on to its allocator, never glibc's); and a preloaded process
refuses to attach twice.
Usage: test_lateload.py LEAKTOP BINDIR SRCDIR TRACER PLUGIN"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, bindir, srcdir, tracer, plugin = sys.argv[1:6]
tmp = tempfile.mkdtemp(prefix="leaktop-lateload-")
env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKTOP_") and k != "LD_PRELOAD"}


def final_state(argv, name, extra_env=None):
    """Runs argv until it says ready, follows it with lateload_reader until
    it ends; returns (expectations, absent lines, rows by (file, line), rc)."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(env, **(extra_env or {})))
    expects, absent, said = [], [], []
    for line in p.stdout:
        said.append(line.strip())
        words = line.split()
        if words[:1] == ["expect"]:
            expects.append((os.path.basename(words[1]), int(words[2]), int(words[3]), int(words[4])))
        elif words[:1] == ["absent"]:
            absent.append(int(words[1]))
        elif words[:1] == ["ready"]:
            break
    if not said or not said[-1].startswith("ready"):
        p.kill()
        return None, None, {}, (p.wait(), p.stderr.read(), said)
    snap = os.path.join(tmp, name + ".ltsnap")
    reader = subprocess.Popen([os.path.join(bindir, "lateload_reader"), str(p.pid), snap], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    watching = reader.stdout.readline().strip()
    p.stdin.write("go\n")
    p.stdin.flush()
    rc = p.wait(timeout=60)
    rout, rerr = reader.communicate(timeout=60)
    if watching != "watching" or reader.returncode != 0:
        return expects, absent, {}, (rc, p.stderr.read(), watching, rerr)
    show = subprocess.run([leaktop, "show", snap, "--json", "--top", "0"], capture_output=True, text=True)
    rows = {}
    for line in show.stdout.splitlines():
        if line.startswith("{"):
            for st in json.loads(line).get("stats", []):
                f = st["frames"][0] if st["frames"] else {}
                key = (os.path.basename(f.get("file") or "?"), f.get("line"))
                size, count = rows.get(key, (0, 0))
                rows[key] = (size + st["size"], count + st["count"])
    return expects, absent, rows, (rc, p.stderr.read())


def exact(case, argv, extra_env=None):
    expects, absent, rows, how = final_state(argv, case, extra_env)
    check(f"{case}: the program attached and ran to its end", expects and how[0] == 0, how)
    for f, line, size, count in expects or []:
        check(f"{case}: {f}:{line} holds {size} B in {count} blocks", rows.get((f, line)) == (size, count),
              (rows.get((f, line)), sorted(rows.items())))
    for line in absent or []:
        hits = [k for k in rows if k[1] == line and k[0].startswith("fx_lateload")]
        check(f"{case}: nothing at line {line} (before the attach, or while detached)", not hits, hits)
    return rows


fx = os.path.join(bindir, "fx_lateload")
nopie = os.path.join(bindir, "fx_lateload_nopie")
exact("pie-full-relro", [fx, "basic", tracer])
exact("non-pie-lazy", [nopie, "basic", tracer])
exact("reattach", [fx, "reattach", tracer])
exact("handler-installed-before", [fx, "signals", tracer])
exact("plugin", [fx, "plugin", tracer, plugin])
exact("dlmopen-other-namespace", [fx, "dlmopen", tracer, plugin])
exact("cxx-new", [os.path.join(bindir, "fx_lateload_cxx"), tracer])
exact("preloaded", [fx, "preloaded", tracer], {"LD_PRELOAD": tracer})
asan = os.path.join(bindir, "fx_lateload_asan")
no_leak_check = {"ASAN_OPTIONS": "detect_leaks=0"}  # the fixture keeps its blocks on purpose
exact("asan-basic", [asan, "basic", tracer], no_leak_check)
jemalloc = os.path.join(bindir, "fx_lateload_jemalloc")
cycled = [fx, nopie, asan]
if os.path.exists(jemalloc):  # built where Debian's libjemalloc-dev is installed (setup.sh installs it)
    exact("jemalloc-linked", [jemalloc, "basic", tracer])
    cycled.append(jemalloc)

# The preloaded process answered EEXIST (17) both ways it was asked.
p = subprocess.run([fx, "preloaded", tracer], input="go\n", capture_output=True, text=True,
                   env=dict(env, LD_PRELOAD=tracer), timeout=60)
check("preloaded: leaktop_attach refuses (EEXIST), whichever copy is asked", "rc 17 17" in p.stdout,
      (p.returncode, p.stdout, p.stderr))

# Attach/detach cycles under four threads: the program's data intact, its own status.
for binary in cycled:
    p = subprocess.run([binary, "cycles", tracer, "25"], capture_output=True, text=True,
                       env=dict(env, **no_leak_check), timeout=120)
    check(f"{os.path.basename(binary)}: 25 attach/detach cycles under 4 threads, data intact, exit 0",
          p.returncode == 0 and "data intact" in p.stdout, (p.returncode, p.stdout, p.stderr[-2000:]))

sys.exit(finish())
