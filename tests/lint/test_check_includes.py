#!/usr/bin/env python3
"""check_includes.py must fail when it should: a fake tree with a circle of
modules (a.c -> b.h, b.c -> c.h, c.c -> a.h) and a tui/ file outside
tui/watch/ that includes lt_shm.h makes it fail and name both; the same
tree without them passes. Usage: test_check_includes.py CHECK_INCLUDES_PY"""
import os
import subprocess
import sys
import tempfile


def write(top, path, text):
    full = os.path.join(top, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def run(script, top):
    p = subprocess.run([sys.executable, script, top], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    script = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as top:
        write(top, "tracer/lt_shm.h", "")
        write(top, "tui/watch/session.c", '#include "lt_shm.h"\n')
        for m, dep in (("a", "b"), ("b", "c"), ("c", "d")):
            write(top, f"tui/{m}.h", "")
            write(top, f"tui/{m}.c", f'#include "{m}.h"\n#include "{dep}.h"\n')
        write(top, "tui/d.h", "")
        rc, out = run(script, top)
        if rc != 0:
            print(f"FAIL: a clean tree was refused:\n{out}")
            failures += 1
        write(top, "tui/c.c", '#include "c.h"\n#include "a.h"\n')
        write(top, "tui/view/peek.c", '#include "lt_shm.h"\n')
        rc, out = run(script, top)
        if rc == 0 or "include cycle" not in out or "tui/view/peek.c includes lt_shm.h" not in out:
            print(f"FAIL: a cycle and a stray lt_shm.h went unnoticed (rc {rc}):\n{out}")
            failures += 1
        elif "tui/a" not in out or "tui/c" not in out:
            print(f"FAIL: the cycle is not named:\n{out}")
            failures += 1
    print("ok" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
