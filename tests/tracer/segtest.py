"""Shared by the segment tests: arguments, checks, running leaktop, and
reading its JSON reports. Usage of a test: TEST.py LEAKTOP TRACER_BIN_DIR FIXTURE_DIR"""
import json
import os
import subprocess
import sys

leaktop, bindir, fixdir = sys.argv[1:4]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish as _finish  # noqa: E402


def fx(name):
    return os.path.join(bindir, name)


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def finish():
    sys.exit(_finish())


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)


def reports(p):
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def exit_report(p):
    reps = [r for r in reports(p) if r["reason"] in ("exit", "signal")]
    return reps[-1] if reps else None


def rows_by_function(rep):
    """{function: (size, count)} of a lineno report's rows, summed by the
    top frame's function (None for a row without frames)."""
    out = {}
    for st in rep["stats"]:
        fn = st["frames"][0]["function"] if st["frames"] else None
        size, count = out.get(fn, (0, 0))
        out[fn] = (size + st["size"], count + st["count"])
    return out


def totals(rep):
    return (rep["total"]["size"], rep["total"]["count"]) if rep else None


def can_unshare():
    """Root and mount namespaces allowed (not in every container)."""
    if os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


def in_small_shm(size, argv, env=None, timeout=300):
    """Runs argv in a mount namespace whose /dev/shm is a tmpfs of `size`;
    what is left in it afterwards ends stderr, as "left in /dev/shm: ..." """
    script = (f'mount -t tmpfs -o size={size},mode=1777 tmpfs /dev/shm || exit 99; "$@"; rc=$?; '
              'echo "left in /dev/shm:" $(ls /dev/shm) >&2; exit $rc')
    return run(["unshare", "-m", "sh", "-c", script, "sh", *argv], timeout=timeout, env=env)
